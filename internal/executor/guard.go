package executor

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"weak"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/ops"
)

// lostReplyOf returns the coded error of a command whose connection failed after it may have
// been written (STORE_OUTCOME_UNKNOWN: it may have run), or nil when err is not one. It is the
// same on every backend: a caller tells "maybe applied" from "never sent"
// (STORE_CONNECTION_FAILED) by the code alone.
func lostReplyOf(op ops.Op, err error) error {
	if !maybeSent(err) {
		return nil
	}
	return ops.NewError(ops.CodeOutcomeUnknown, op.Kind.Operation(),
		op.Kind.Operation()+" may or may not have been applied: the connection failed after the command was sent", err).
		WithDetails(map[string]any{"idempotent": op.Idempotent})
}

// The cluster drop hook.
//
// A cluster's batches run on the ClusterClient itself (its Pipeline, or in the go-redis modes its
// own autopipeliner: pipeline.go, Ownership), so the store's abandoned commands can only be
// dropped from them by a hook on the ClusterClient.
// go-redis has no way to remove a hook, so the store never adds one per store: AttachCluster adds
// one hook per ClusterClient, the first time any store attaches to it, and the hook consults the
// client's registration count, which each store's pipeline adds itself to at start and removes
// itself from at Close. With no store attached it passes every batch on after one atomic load;
// however many stores were built and closed on a client, its commands pass through at most this
// one hook. The hook only removes commands the store marked abandoned (a storeCmd), so the
// application's own commands are never touched.

// clusterHooks maps a ClusterClient (weakly: the entry goes when the client is collected) to the
// hook installed on it.
var clusterHooks sync.Map // weak.Pointer[redis.ClusterClient] → *dropClusterHook

// dropClusterHook is the one hook per ClusterClient; attached counts the stores using it.
type dropClusterHook struct{ attached atomic.Int64 }

// AttachCluster registers a store on c and returns the function that unregisters it (safe to
// call more than once). It does not touch the network.
func AttachCluster(c *redis.ClusterClient) (detach func()) {
	key := weak.Make(c)
	h, loaded := clusterHooks.LoadOrStore(key, &dropClusterHook{})
	hook := h.(*dropClusterHook)
	if !loaded {
		c.AddHook(hook)
		runtime.AddCleanup(c, func(k weak.Pointer[redis.ClusterClient]) { clusterHooks.Delete(k) }, key)
	}
	hook.attached.Add(1)
	var once sync.Once
	return func() { once.Do(func() { hook.attached.Add(-1) }) }
}

// ClusterAttached reports how many stores are attached to c's drop hook, and whether c has one:
// for tests and diagnostics.
func ClusterAttached(c *redis.ClusterClient) (stores int64, hooked bool) {
	h, ok := clusterHooks.Load(weak.Make(c))
	if !ok {
		return 0, false
	}
	return h.(*dropClusterHook).attached.Load(), true
}

func (*dropClusterHook) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook drops an abandoned store command that the autopipeliner sends alone (its
// single-command path runs the process hooks, not the pipeline hooks). It never writes the
// command: go-redis records the verdict itself.
func (h *dropClusterHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if h.attached.Load() != 0 {
			if s, ok := cmd.(storeCmd); ok && s.abandoned() {
				return errDropped
			}
		}
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook drops the store's abandoned commands from a batch before it is mapped to
// its nodes and written.
func (h *dropClusterHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if h.attached.Load() == 0 {
			return next(ctx, cmds)
		}
		live := dropAbandoned(cmds)
		if len(live) == 0 {
			return nil
		}
		return next(ctx, live)
	}
}
