package executor

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/ops"
)

// The cluster side of the pipeline (pipeline.go, "*redis.ClusterClient: per-node batches").

// storeCmd is a store command submitted to a cluster's autopipeliner: a go-redis command that
// forbids re-sends and carries the abandoned mark.
type storeCmd interface {
	redis.Cmder
	abandon()
	abandoned() bool
}

// storeMark is the abandoned mark: set when the caller stopped waiting.
type storeMark struct{ gone atomic.Bool }

func (m *storeMark) abandon()        { m.gone.Store(true) }
func (m *storeMark) abandoned() bool { return m.gone.Load() }

// The wrappers embed the concrete go-redis command (not the Cmder interface): the embedded
// pointer promotes every method of the command, go-redis's unexported ones included, so reply
// reading, slot and key-position lookup and the batch bookkeeping go to the command itself —
// in particular readyBatch, which go-redis looks up with a type assertion to register a
// cluster node's executor goroutine (registerBatchExecutors); a wrapper of the interface would
// hide it, and a node hook reading a result would then wait on its own batch. Only NoRetry is
// overridden. Values are read from the embedded command, which the caller keeps.
type (
	noRetryString struct {
		*redis.StringCmd
		storeMark
	}
	noRetryStatus struct {
		*redis.StatusCmd
		storeMark
	}
	noRetryInt struct {
		*redis.IntCmd
		storeMark
	}
	noRetryBool struct {
		*redis.BoolCmd
		storeMark
	}
	noRetrySlice struct {
		*redis.SliceCmd
		storeMark
	}
	noRetryCmd struct {
		*redis.Cmd
		storeMark
	}
)

func (*noRetryString) NoRetry() bool { return true }
func (*noRetryStatus) NoRetry() bool { return true }
func (*noRetryInt) NoRetry() bool    { return true }
func (*noRetryBool) NoRetry() bool   { return true }
func (*noRetrySlice) NoRetry() bool  { return true }
func (*noRetryCmd) NoRetry() bool    { return true }

// noRetry wraps one of the command types the pipeline builds (pipeline.run, pipeScripter).
func noRetry(cmd redis.Cmder) storeCmd {
	switch c := cmd.(type) {
	case *redis.StringCmd:
		return &noRetryString{StringCmd: c}
	case *redis.StatusCmd:
		return &noRetryStatus{StatusCmd: c}
	case *redis.IntCmd:
		return &noRetryInt{IntCmd: c}
	case *redis.BoolCmd:
		return &noRetryBool{BoolCmd: c}
	case *redis.SliceCmd:
		return &noRetrySlice{SliceCmd: c}
	case *redis.Cmd:
		return &noRetryCmd{Cmd: c}
	}
	// Unreachable: a new command type in pipeline.run needs its wrapper here. Sending it
	// without one would let go-redis re-send a batch holding it.
	panic(fmt.Sprintf("igniter store: no NoRetry wrapper for %T", cmd))
}

// dropAbandoned removes the store commands marked abandoned from a node's batch, giving them
// errDropped; it returns cmds itself when none is. The cluster node hook (guard.go) calls it
// right before the batch is written.
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
