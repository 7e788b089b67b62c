package executor

import (
	"context"
	"slices"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/internal/keyspace"
	"github.com/igniter-go/store/ops"
)

// Scans on Redis Cluster.
//
// SCAN has no key, so a cluster client would send each page to some node and hand back that
// node's bare cursor: pages would mix nodes, and a scan could miss keys or never end. The store
// scans the primaries one after another instead, in the order of the lowest hash slot each
// serves, and its cursor names the node: the top 14 bits hold that lowest slot, the low 50 bits
// the node's own SCAN cursor. Cursor 0 starts at the primary of slot 0; after the last primary
// the cursor is 0 again, as on one node. A node is named by a slot rather than an address so a
// failover (a replica taking over the same slots) does not strand the cursor. Redis's own
// guarantees then hold per node: every key present for the whole scan is returned at least once
// (Dev.Keys drops the repeats). The cursor stays an opaque decimal string to the caller.

const (
	scanRawBits = 50
	scanRawMask = 1<<scanRawBits - 1
)

// clusterScan runs one page of a scan on a cluster; op.Cursor is a cursor made here (or 0).
func clusterScan(ctx context.Context, c *redis.ClusterClient, op ops.Op) (ops.Result, error) {
	slot, raw := int(op.Cursor>>scanRawBits), op.Cursor&scanRawMask
	if slot >= keyspace.HashSlots {
		return ops.Result{}, ops.Invalid(ops.CodeScanFailed, ops.DevScan.Operation(), "Scan cursor must be one returned by a previous scan", nil)
	}
	firsts, err := primaryFirstSlots(ctx, c)
	if err != nil {
		return ops.Result{}, err
	}
	node, err := c.MasterForKey(ctx, "{"+keyspace.SlotTag(slot)+"}")
	if err != nil {
		return ops.Result{}, err
	}
	keys, next, err := node.Scan(ctx, raw, op.Key, op.N).Result()
	if err != nil {
		return ops.Result{}, err
	}
	if next > scanRawMask {
		return ops.Result{}, ops.NewError(ops.CodeScanFailed, ops.DevScan.Operation(), "a node's SCAN cursor does not fit the cluster cursor", nil)
	}
	if next != 0 {
		return ops.Result{Strings: keys, Cursor: uint64(slot)<<scanRawBits | next}, nil
	}
	// This node is done: go on to the primary with the next lowest first slot, or finish.
	i, _ := slices.BinarySearch(firsts, slot+1)
	if i == len(firsts) {
		return ops.Result{Strings: keys}, nil
	}
	return ops.Result{Strings: keys, Cursor: uint64(firsts[i]) << scanRawBits}, nil
}

// primaryFirstSlots returns, sorted, the lowest slot each primary serves (CLUSTER SLOTS).
func primaryFirstSlots(ctx context.Context, c *redis.ClusterClient) ([]int, error) {
	ranges, err := c.ClusterSlots(ctx).Result()
	if err != nil {
		return nil, err
	}
	first := map[string]int{}
	for _, r := range ranges {
		if len(r.Nodes) == 0 {
			continue
		}
		addr := r.Nodes[0].Addr
		if s, ok := first[addr]; !ok || r.Start < s {
			first[addr] = r.Start
		}
	}
	out := make([]int, 0, len(first))
	for _, s := range first {
		out = append(out, s)
	}
	slices.Sort(out)
	return out, nil
}
