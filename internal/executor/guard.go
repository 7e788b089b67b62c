package executor

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/ops"
)

// Write safety on Redis Cluster.
//
// go-redis's ClusterClient retries a command in its own loop, up to MaxRedirects times whatever
// MaxRetries says, when a node's connection fails: EOF, reset, I/O timeout (osscluster.go,
// ClusterClient.process → shouldRetry). That loop is also what follows MOVED and ASK, so it
// cannot be turned off (MaxRedirects: -1) without breaking resharding and failover. When the
// connection fails after the command was written, the command may have run: a second send
// applies an INCR, XADD or PUBLISH twice.
//
// The store therefore puts a hook on every node client of the cluster: when a command the store
// sent (marked in its context) fails on the network after it may have been written, the hook
// replaces the error with a [lostReplyError], which go-redis does not recognise as retryable, so
// the loop returns it at once. Redirects (MOVED, ASK), READONLY, CLUSTERDOWN, TRYAGAIN and
// LOADING replies, and failures before the write (dial refused, pool timeout) are left as they
// are and still handled by go-redis: Redis answered them without running the command, or it never
// reached Redis. The executor reports a lost reply as STORE_OUTCOME_UNKNOWN (category
// unavailable), and the store's retry middleware retries it only for an idempotent Op. The hook
// also asks the cluster client to reload its slot map, so a failover is seen within
// milliseconds of the first failure instead of at the next periodic reload.
//
// Commands the application sends itself on the same ClusterClient carry no mark and are not
// touched.

// lostReplyError is a network failure of a command that may have reached Redis. It does not
// unwrap (go-redis would find the io.EOF or net.Error inside and retry); [lostReplyError.cause]
// holds what failed, and the executor's coded error wraps that.
type lostReplyError struct{ cause error }

func (e *lostReplyError) Error() string {
	return "igniter-store: the connection failed after the command was sent; it may have run: " + e.cause.Error()
}

// guardKey marks a context as carrying a store operation.
type guardKey struct{}

// guard marks ctx so the node hooks of a cluster client act on the commands sent under it. It
// returns ctx unchanged for other clients (no allocation).
func (e *Executor) guard(ctx context.Context) context.Context {
	if _, ok := e.rdb.(*redis.ClusterClient); !ok {
		return ctx
	}
	return context.WithValue(ctx, guardKey{}, true)
}

// lostReplyOf returns the coded error for a lost reply, or nil when err is not one.
func lostReplyOf(op ops.Op, err error) error {
	var lost *lostReplyError
	if !errors.As(err, &lost) {
		return nil
	}
	return ops.NewError(ops.CodeOutcomeUnknown, op.Kind.Operation(),
		op.Kind.Operation()+" may or may not have been applied: the connection failed after the command was sent", lost.cause).
		WithDetails(map[string]any{"idempotent": op.Idempotent})
}

// GuardCluster installs the lost-reply hook on every node client of a cluster client, present
// and future. It does nothing for other clients. Each adapter made on the same client adds its
// own hook; they compose (an outer hook passes a lost reply on unchanged). Nodes exist only once the client has been used:
// for a fresh client the OnNewNode callback covers them all; for a used one the nodes of the
// current slot map are hooked too (one CLUSTER SLOTS round trip at most, bounded by
// guardLoadTimeout; nodes it cannot reach then are hooked if go-redis recreates them).
func GuardCluster(rdb redis.UniversalClient) {
	c, ok := rdb.(*redis.ClusterClient)
	if !ok {
		return
	}
	g := &nodeGuard{cluster: c, hooked: map[*redis.Client]bool{}}
	c.OnNewNode(g.add)
	if c.PoolStats().TotalConns > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), guardLoadTimeout)
		defer cancel()
		_ = c.ForEachShard(ctx, func(_ context.Context, n *redis.Client) error {
			g.add(n)
			return nil
		})
	}
}

// guardLoadTimeout bounds the slot-map load of guardCluster on a client already in use.
const guardLoadTimeout = 2 * time.Second

// nodeGuard adds the hook to each node client once.
type nodeGuard struct {
	cluster *redis.ClusterClient
	mu      sync.Mutex
	hooked  map[*redis.Client]bool
}

func (g *nodeGuard) add(n *redis.Client) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.hooked[n] {
		return
	}
	g.hooked[n] = true
	n.AddHook(lostReplyHook{cluster: g.cluster})
}

// lostReplyHook is the node hook; see the comment at the top of this file.
type lostReplyHook struct{ cluster *redis.ClusterClient }

func (lostReplyHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h lostReplyHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if err == nil || ctx.Value(guardKey{}) == nil {
			return err
		}
		if networkFailure(err) {
			h.cluster.ReloadState(ctx) // coalesced, in the background
		}
		if !maybeSent(err) {
			return err
		}
		return &lostReplyError{cause: err}
	}
}

// ProcessPipelineHook drops the store's abandoned commands from a node's batch right before it
// is written (the cluster pipeline's drop, pipeline.go). Lost replies of pipelined commands
// are mapped where the store waits for them (pipeline.lostReply): the batch runs on the
// autopipeliner's context, which carries no guard mark.
func (lostReplyHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		live := dropAbandoned(cmds)
		if len(live) == 0 {
			return nil
		}
		return next(ctx, live)
	}
}

// networkFailure reports a failure to reach or hear from the node (not a Redis error reply).
func networkFailure(err error) bool {
	var reply redis.Error
	if errors.As(err, &reply) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var lost *lostReplyError
	return !errors.As(err, &lost)
}

// maybeSent reports whether err is a network failure that may have come after the command was
// written: everything but a Redis reply, a context error, a refused dial and a connection that
// was never taken from the pool.
func maybeSent(err error) bool {
	if !networkFailure(err) {
		return false
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return false
	}
	return !errors.Is(err, redis.ErrPoolTimeout) && !errors.Is(err, redis.ErrPoolExhausted) && !errors.Is(err, redis.ErrClosed)
}
