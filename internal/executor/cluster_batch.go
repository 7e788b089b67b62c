package executor

import (
	"context"
	"errors"
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
// returned, not retried, and is STORE_OUTCOME_UNKNOWN (lostReplyOf): the EXEC may have run. A
// slot that could not be reached (STORE_CONNECTION_FAILED on its own) while another slot's
// transaction was applied is STORE_OUTCOME_UNKNOWN too: the batch is partly applied, and
// STORE_CONNECTION_FAILED would say nothing was. MGET pages are reads.

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
		ran   bool // some slot's transaction was applied
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
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				ran = true
				return
			}
			// A slot whose EXEC may have run outranks one that certainly did not: the
			// caller must learn that the batch may be partly applied (lostReplyOf).
			if first == nil || (maybeSent(err) && !maybeSent(first)) {
				first = err
			}
		})
	}
	wg.Wait()
	if first != nil && ran && !maybeSent(first) && errors.Is(Category(first), ops.ErrUnavailable) {
		// Another slot was applied: the batch is partly applied, which the unavailability
		// code (STORE_CONNECTION_FAILED: nothing left) would deny.
		return partlyApplied(op, first)
	}
	return first
}

// partlyApplied is STORE_OUTCOME_UNKNOWN for an op that runs in several steps on a cluster
// (a batch's slots, a cross-slot redrive) some of which were applied while another certainly
// did not run (err).
func partlyApplied(op ops.Op, err error) error {
	return ops.NewError(ops.CodeOutcomeUnknown, op.Kind.Operation(),
		op.Kind.Operation()+" is partly applied: one of its steps on the cluster ran, another could not be sent", err).
		WithDetails(map[string]any{"idempotent": op.Idempotent})
}
