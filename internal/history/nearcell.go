package history

import (
	"context"
	"math/rand/v2"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/nearcache"
)

// NearKV is a KV register read through a near cache ([nearcache.Near]) and written through the
// store it fronts: what an application that enables the near cache sees.
type NearKV struct {
	Near  *nearcache.Near
	Store *client.Store
}

// Get reads key through the near cache: from memory on a hit.
func (n NearKV) Get(ctx context.Context, key string) (string, bool, error) {
	var v string
	found, err := n.Near.Get(ctx, key, &v)
	return v, found, err
}

// Set writes key through the store (which tells the near cache before it sends the write and
// after Redis answered: the key is read from Redis meanwhile, and cached again only after a write
// of it is acknowledged).
func (n NearKV) Set(ctx context.Context, key, value string) error {
	return StoreKV{Store: n.Store}.Set(ctx, key, value)
}

// Del deletes key through the store.
func (n NearKV) Del(ctx context.Context, key string) error {
	return StoreKV{Store: n.Store}.Del(ctx, key)
}

// NearKVCell is the KV register with every read through near, a near cache on the round's store
// whose own client the caller points at the fault proxy too. The writers and readers share the
// store, so the near cache documents the full promise: linearizable with the writes of that
// store, reads concurrent with a write included. Checked against the linearizable [KVModel].
// (Other clients' writes are seen once their invalidation is applied, a window the model does
// not allow; this cell has no other client.)
func NearKVCell(near *nearcache.Near) Cell {
	return modelCell{label: "nearcache", model: KVModel, writes: []string{"set", "del"},
		workload: func(rec *Recorder, st *client.Store, prefix string, _ int) func(context.Context, int, *rand.Rand) {
			return KVStep(rec, []string{prefix + "a", prefix + "b", prefix + "c"}, NearKV{Near: near, Store: st})
		}}
}
