package executor

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/ops"
)

// Exactly once on Redis Cluster.
//
// go-redis's ClusterClient re-sends a command in its own loop, up to MaxRedirects times whatever
// MaxRetries says, when a node's connection fails (osscluster.go, ClusterClient.process →
// shouldRetry); its pipelines re-send a node's whole batch (processPipelineNodeConn,
// pipelineReadCmds); the lone command it sends after an ASK redirect goes through a node
// pipeline. That loop also follows MOVED and ASK, so it cannot be turned off. go-redis v9.23
// honours one marker on every one of these paths: a command whose NoRetry() is true is never
// sent again (cmdsContainNoRetry, process). MOVED and ASK are still followed (go-redis checks
// them before NoRetry), and a connection that could not be taken from the pool is still re-dialled.
//
// So every command the store sends to a cluster is wrapped (noRetry): its NoRetry() is true from
// the moment it is submitted, unless go-redis recorded an outcome that proves the command did not
// run (storeMark.SetErr → notRun): a refused dial, a pool that gave no connection, or a reply of
// Redis that says it did not run it (LOADING, TRYAGAIN, CLUSTERDOWN, MASTERDOWN, READONLY). Those
// go-redis may send again, as before. The marker is on the command itself, so it holds on every
// path and every node client, whether it existed before the store was built or not: no hook on
// the application's client is involved. It binds go-redis, not the application's own hooks: a
// hook the application adds (AddHook, OnNewNode) that calls next again after a failure must
// check cmd.NoRetry() itself, which is true for every store command that may have run
// (TestExactlyOnceReviewClusterUserRetryHookSeesNoRetry); one that ignores it can re-send.
//
// A lost reply (a network failure after the command may have been written) then comes back to
// the executor as the transport error, which lostReplyOf maps to STORE_OUTCOME_UNKNOWN, on every
// backend (single node and Sentinel send nothing twice with MaxRetries: -1).

// storeCmd is a store command on a cluster: a go-redis command that go-redis does not re-send
// once it may have been written, with the pipeline's abandoned mark.
type storeCmd interface {
	redis.Cmder
	abandon()
	abandoned() bool
}

// storeMark is what the wrappers add to a go-redis command: the abandoned mark (set when the
// caller stopped waiting) and whether go-redis's last recorded outcome proves the command did not
// run. Both are atomics: go-redis's reader goroutine records outcomes while the caller's
// goroutine may mark the command abandoned.
type storeMark struct {
	gone      atomic.Bool
	mayResend atomic.Bool
}

func (m *storeMark) abandon()        { m.gone.Store(true) }
func (m *storeMark) abandoned() bool { return m.gone.Load() }

// NoRetry is go-redis's re-send marker: true unless the last outcome proves the command did not
// run.
func (m *storeMark) NoRetry() bool { return !m.mayResend.Load() }

func (m *storeMark) note(err error) { m.mayResend.Store(err != nil && notRun(err)) }

// The wrappers embed the concrete go-redis command (not the Cmder interface): the embedded
// pointer promotes every method of the command, go-redis's unexported ones included, so reply
// reading, slot and key-position lookup and the batch bookkeeping go to the command itself —
// in particular readyBatch, which go-redis looks up with a type assertion to register a
// cluster node's executor goroutine (registerBatchExecutors); a wrapper of the interface would
// hide it, and a node hook reading a result would then wait on its own batch. NoRetry and SetErr
// are overridden (SetErr records the outcome, then sets it on the command). Values are read from
// the embedded command, which the caller keeps.
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
	// noRetryAny wraps any other command the store sends alone (stream commands, scripts'
	// typed replies): those never enter the autopipeliner, which is what needs readyBatch.
	noRetryAny struct {
		redis.Cmder
		storeMark
	}
)

func (c *noRetryString) NoRetry() bool { return c.storeMark.NoRetry() }
func (c *noRetryStatus) NoRetry() bool { return c.storeMark.NoRetry() }
func (c *noRetryInt) NoRetry() bool    { return c.storeMark.NoRetry() }
func (c *noRetryBool) NoRetry() bool   { return c.storeMark.NoRetry() }
func (c *noRetrySlice) NoRetry() bool  { return c.storeMark.NoRetry() }
func (c *noRetryCmd) NoRetry() bool    { return c.storeMark.NoRetry() }
func (c *noRetryAny) NoRetry() bool    { return c.storeMark.NoRetry() }

func (c *noRetryString) SetErr(e error) { c.note(e); c.StringCmd.SetErr(e) }
func (c *noRetryStatus) SetErr(e error) { c.note(e); c.StatusCmd.SetErr(e) }
func (c *noRetryInt) SetErr(e error)    { c.note(e); c.IntCmd.SetErr(e) }
func (c *noRetryBool) SetErr(e error)   { c.note(e); c.BoolCmd.SetErr(e) }
func (c *noRetrySlice) SetErr(e error)  { c.note(e); c.SliceCmd.SetErr(e) }
func (c *noRetryCmd) SetErr(e error)    { c.note(e); c.Cmd.SetErr(e) }
func (c *noRetryAny) SetErr(e error)    { c.note(e); c.Cmder.SetErr(e) }

// noRetry wraps cmd so that go-redis never re-sends it once it may have been written.
func noRetry(cmd redis.Cmder) storeCmd {
	switch c := cmd.(type) {
	case storeCmd:
		return c
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
	return &noRetryAny{Cmder: cmd}
}

// sendOnce builds a command with build and sends it on rdb so that go-redis never sends it twice.
// On a cluster client the command is built on a throwaway pipeline (go-redis's typed methods make
// exactly the command rdb's own would, read timeout of a blocking read included, without sending
// it) and processed wrapped in noRetry; a failure on the network also reloads the slot map.
// Every other client (a single node, Sentinel, Ring, a leased *redis.Conn) runs with
// MaxRetries: -1 and sends it once as it is.
func sendOnce[C redis.Cmder](ctx context.Context, rdb redis.Cmdable, build func(redis.Cmdable) C) C {
	c, ok := rdb.(*redis.ClusterClient)
	if !ok {
		return build(rdb)
	}
	b, _ := builders.Get().(*redis.Pipeline)
	if b == nil {
		b = c.Pipeline().(*redis.Pipeline)
	}
	cmd := build(b) // queued on a pipeline nobody executes: built, not sent
	b.Discard()
	builders.Put(b)
	err := c.Process(ctx, noRetry(cmd))
	reloadOnFailure(c, err)
	return cmd
}

// builders holds the pipelines sendOnce builds commands on (never executed; a pipeline's typed
// methods only make the command and queue it), so that building one allocates no pipeline.
var builders sync.Pool // *redis.Pipeline

// doOnce is rdb.Do(ctx, args...) sent as sendOnce sends: the command go-redis's Do makes.
func doOnce(ctx context.Context, rdb redis.Cmdable, args ...any) *redis.Cmd {
	cmd := redis.NewCmd(ctx, args...)
	switch c := rdb.(type) {
	case *redis.ClusterClient:
		reloadOnFailure(c, c.Process(ctx, noRetry(cmd)))
	case interface {
		Process(context.Context, redis.Cmder) error
	}:
		_ = c.Process(ctx, cmd)
	default:
		cmd.SetErr(errors.New("igniter store: the client cannot process a command"))
	}
	return cmd
}

// reloadOnFailure asks a cluster client to reload its slot map after a failure to reach or hear
// from a node, so a failover is seen within milliseconds of the first failure instead of at
// go-redis's periodic reload (about a minute). It is coalesced and runs in the background.
func reloadOnFailure(rdb redis.Cmdable, err error) {
	if c, ok := rdb.(*redis.ClusterClient); ok && networkFailure(err) {
		c.ReloadState(context.Background())
	}
}

// networkFailure reports a failure to reach or hear from the node: not a Redis reply, not a ctx
// error, not the store's own coded error, not nil.
func networkFailure(err error) bool {
	if err == nil || err == redis.Nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var reply redis.Error
	var coded *ops.Error
	return !errors.As(err, &reply) && !errors.As(err, &coded)
}

// notSent reports a network failure that certainly came before the command was written: a
// refused or failed dial, a pool that gave no connection, a closed client, the autopipeliner's
// own refusals.
func notSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	return errors.Is(err, redis.ErrPoolTimeout) || errors.Is(err, redis.ErrPoolExhausted) || errors.Is(err, redis.ErrClosed) ||
		errors.Is(err, redis.ErrAutoPipelineTimeout) || errors.Is(err, redis.ErrAutoPipelineQueueFull)
}

// maybeSent reports a network failure that may have come after the command was written: the
// command may have run.
func maybeSent(err error) bool { return networkFailure(err) && !notSent(err) }

// notRun reports an outcome that proves the command did not run: it was never written, or Redis
// answered that it did not run it.
func notRun(err error) bool {
	if networkFailure(err) {
		return notSent(err)
	}
	var reply redis.Error
	if !errors.As(err, &reply) {
		return false
	}
	for _, p := range unavailablePrefixes {
		if redis.HasErrorPrefix(err, p) {
			return true
		}
	}
	return false
}
