package executor

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/ops"
)

// The cluster side of the pipeline (pipeline.go, "*redis.ClusterClient: per-node batches").

// dropAbandoned removes the store commands marked abandoned from a node's batch, giving them
// errDropped; it returns cmds itself when none is. The cluster drop hook (guard.go) calls it
// right before the batch is mapped to its nodes and written.
func dropAbandoned(cmds []redis.Cmder) []redis.Cmder {
	return withoutDropped(cmds, func(c redis.Cmder) bool {
		s, ok := c.(storeCmd)
		return ok && s.abandoned()
	})
}

// clusterMGet is Batch.Get on a cluster: one MGET per hash slot (slotGroups), submitted
// together; the values come back in input order. A lone Batch.Get runs clusterMGet
// (cluster_batch.go): one go-redis cluster pipeline.
func (p *pipeline) clusterMGet(ctx context.Context, keys []string) (ops.Result, error) {
	groups := slotGroups(keys)
	cmds := make([]*redis.SliceCmd, len(groups))
	all := make([]redis.Cmder, len(groups))
	for g, idx := range groups {
		args := make([]any, 1+len(idx))
		args[0] = "mget"
		for j, i := range idx {
			args[1+j] = keys[i]
		}
		cmds[g] = redis.NewSliceCmd(ctx, args...)
		all[g] = cmds[g]
	}
	var direct *ops.Result
	err := p.doAll(ctx, all, func(ctx context.Context) error {
		res, err := clusterMGet(ctx, p.cluster, keys)
		direct = &res
		return err
	})
	if err != nil {
		return ops.Result{}, err
	}
	if direct != nil {
		return *direct, nil
	}
	return gatherMGet(len(keys), groups, cmds), nil
}
