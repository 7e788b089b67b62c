package executor

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/internal/keyspace"
	"github.com/igniter-go/store/ops"
)

// Batches on Redis Cluster.
//
// MGET and MSET take keys of one hash slot only (CROSSSLOT otherwise), and a MULTI/EXEC runs on
// one node, so on a cluster a batch is split by slot, in the order the slots first appear:
//
//   - Batch.Get: one MGET per slot, sent as one go-redis cluster pipeline (one round trip per
//     node, nodes in parallel); the values come back in input order as on one node.
//   - Batch.Set: per slot, one MULTI / MSET (entries without a TTL) / SET … EX|PX (each entry with
//     one) / EXEC: the single-node commands restricted to the slot. Each slot's writes are all
//     or nothing; across slots they are not (no Redis Cluster command spans slots): when one
//     slot's transaction fails, the others may have been written, and the call fails with the
//     first error. Keys that must change together should share a hash tag ("{order:42}:total",
//     "{order:42}:lines"): one slot, one transaction.
//
// Keys are the single-node keys, byte for byte; only the grouping differs.
//
// Re-sends: go-redis re-sends a slot's transaction only when writing it failed (a MULTI without
// its EXEC is discarded by Redis, so nothing ran); a failure while reading the EXEC reply is
// returned, not retried. MGET pages are reads.

// slotGroups returns the indexes of keys grouped by hash slot, groups in first-appearance order.
func slotGroups(keys []string) [][]int {
	at := map[int]int{}
	var groups [][]int
	for i, k := range keys {
		s := keyspace.Slot(k)
		g, ok := at[s]
		if !ok {
			g = len(groups)
			at[s] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	return groups
}

// clusterMGet is [executor.mget] on a cluster: one MGET per slot in one pipeline.
func clusterMGet(ctx context.Context, c *redis.ClusterClient, keys []string) (ops.Result, error) {
	groups := slotGroups(keys)
	cmds := make([]*redis.SliceCmd, len(groups))
	_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for g, idx := range groups {
			ks := make([]string, len(idx))
			for j, i := range idx {
				ks[j] = keys[i]
			}
			cmds[g] = p.MGet(ctx, ks...)
		}
		return nil
	})
	if err != nil {
		return ops.Result{}, err
	}
	return gatherMGet(len(keys), groups, cmds), nil
}

// gatherMGet puts the values of the per-slot MGETs (cmds[g] read the keys at groups[g]) back in
// the order of the n keys asked for; a missing key is nil.
func gatherMGet(n int, groups [][]int, cmds []*redis.SliceCmd) ops.Result {
	out := make([][]byte, n)
	for g, idx := range groups {
		for j, v := range cmds[g].Val() {
			if s, ok := v.(string); ok {
				out[idx[j]] = []byte(s)
			}
		}
	}
	return ops.Result{Values: out}
}

// clusterMSetParallel bounds how many slot transactions of one batch run at once.
const clusterMSetParallel = 8

// clusterMSet is [executor.mset] on a cluster: one MULTI/EXEC per slot, at most
// clusterMSetParallel at a time; the first error is returned after every slot has finished.
func clusterMSet(ctx context.Context, c *redis.ClusterClient, op ops.Op) error {
	b := op.Batch
	groups := slotGroups(op.Keys)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		sem   = make(chan struct{}, clusterMSetParallel)
	)
	for _, idx := range groups {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
				var plain []any
				for _, i := range idx {
					if ttlAt(b, i) == 0 {
						plain = append(plain, op.Keys[i], b.Values[i])
					}
				}
				if len(plain) > 0 {
					p.MSet(ctx, plain...)
				}
				for _, i := range idx {
					if ttl := ttlAt(b, i); ttl > 0 {
						p.Set(ctx, op.Keys[i], b.Values[i], ttl)
					}
				}
				return nil
			})
			if err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return first
}
