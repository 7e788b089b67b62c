package executor

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/ops"
)

// pipeline sends the executor's short, non-blocking commands in shared batches, so the commands
// of many concurrent callers share one write and one read on one connection instead of taking a
// pooled connection each (issue #12).
//
// Two engines. By default the store's own lanes (lane.go): one per redis-server, or one per
// cluster primary, each with one batch in flight, each batch one go-redis Pipeline.Exec. With
// PipelineOptions.FullDuplex or MaxFlushDelay, go-redis's deferred autopipeliner
// (AsyncAutoPipeline) with its ordered defaults instead. Either way the pipeline waits for each
// command itself, so that each op keeps the semantics of a plain go-redis call:
//
//   - ordering: a caller's next op is submitted only after its previous one returned, and a
//     lane (a shard of go-redis's autopipeliner) runs its batches in order, one at a time, so
//     one goroutine's ops run in its order;
//   - replies and errors are per command: a WRONGTYPE fails its own op only;
//   - ctx: the wait ends with the caller's ctx error. A command whose batch has not reached the
//     drop hook yet is then dropped — Pipeline.Exec, like the autopipeliner, writes every command
//     it is given, so a hook removes abandoned commands from the batch before go-redis takes a
//     connection for it. A command past the hook runs, and its reply is discarded: one already
//     written, and one whose batch waits for a connection to be dialled, which is written when
//     the dial completes, after its caller left (a Settle in the caller's ctx, settle.go, hears
//     when it is answered or dropped). A command queued behind a batch the server has not
//     answered stays queued (one batch in flight), so it can still be dropped;
//   - a lost connection fails every command of the batch whose reply was not read with the
//     transport error; nothing is replayed below the store (see the cluster notes), and the
//     retry middleware retries only idempotent ops;
//   - MULTI/EXEC (Batch.Set), blocking stream reads, pub/sub and every other command keep
//     running on the go-redis client itself, never inside a shared batch.
//
// # *redis.Client
//
// The batches run on a clone sharing the caller's pools (Client.WithTimeout), so the drop hook
// (dropHook, keyed on a set of abandoned commands) is the clone's only and the caller's own
// hooks do not run for pipelined commands. The client runs with MaxRetries -1: its pipelines
// never re-send. A lost connection is ops.ErrUnavailable.
//
// # *redis.ClusterClient: per-node batches
//
// A command goes to the lane of the primary that serves its first key's slot (laneFor), and
// each lane's batch is one ClusterClient Pipeline.Exec: one write and one read on that node, its
// callers waiting on no other node. (go-redis's cluster autopipeliner, used in the full-duplex
// and flush-delay modes, routes by slot range to GOMAXPROCS shards instead, one batch in flight
// per shard spanning several nodes.) Three things make the cluster pipeline safe for the store:
//
//   - No blind re-send. The cluster pipeline re-sends a whole node batch after a transport
//     error, and a whole batch whose first reply is a retryable error (TRYAGAIN, LOADING,
//     CLUSTERDOWN), whatever MaxRetries says — unless a command of the batch says NoRetry
//     (osscluster.go: processPipelineNodeConn, pipelineReadCmds, cmdsContainNoRetry). Every
//     command the store submits is wrapped in a type that embeds the go-redis command and
//     answers NoRetry() = true until an outcome proves it did not run (noretry.go), so no
//     batch of store commands is ever re-sent. MOVED and ASK are still followed:
//     pipelineReadCmds calls checkMovedErr before it looks at NoRetry, and a connection that
//     could not be taken from the pool (the batch was never written) is still re-mapped and
//     tried again. A transport failure after the write is STORE_OUTCOME_UNKNOWN (lostReplyOf),
//     as on the direct path; a failure before it (dial refused, pool timeout) stays
//     STORE_CONNECTION_FAILED.
//   - Dropping. ClusterClient has no private clone: its hooks are the caller's client's. The
//     wrapper carries an abandoned mark, and the one drop hook per ClusterClient
//     (AttachCluster, guard.go) removes marked commands from a batch before it is mapped to its
//     nodes (dropAbandoned). Commands without the mark (the application's own) pass untouched;
//     with no store attached the hook passes everything on.
//   - Ownership. The lanes are the store's and Close stops them. In the go-redis modes the store
//     uses the deferred pipeliner AsyncAutoPipelineWithOptions caches per ClusterClient ("first
//     call's config wins"), shared with any other user of the client's AsyncAutoPipeline, and
//     never closes it — ClusterClient.Close does. Building a second ClusterClient from cloned
//     options would double the connections and lose the hooks and instrumentation the
//     application put on its client. If someone closes the shared pipeliner, ops go direct.
//
// Batch.Get is split by slot first (slotGroups, cluster_batch.go), one MGET per slot, all
// submitted before the first is awaited, so they ride the nodes' batches together. The lone-op
// path and the degraded mode are those of one node: an op submitted while none is in flight,
// or after a lost connection until a direct op is answered, runs on the ClusterClient itself
// wrapped in noRetry as well (ClusterClient.process still retries a command that provably did
// not run); a lone Batch.Get runs clusterMGet (cluster_batch.go).
type pipeline struct {
	// lane is the engine on a *redis.Client, lanes on a *redis.ClusterClient (one per primary,
	// by address; lanesMu serialises making and closing them): the store's own half-duplex
	// batches (lane.go). ap replaces them in the full-duplex and flush-delay modes.
	lane     *lane
	lanes    sync.Map // string → *lane
	lanesMu  sync.Mutex
	maxBatch int
	closed   atomic.Bool

	ap *redis.AutoPipeliner
	// owned: Close closes ap (it was built on a private clone of the caller's client).
	owned bool
	// cluster is set for a *redis.ClusterClient: commands are submitted wrapped (noRetry),
	// dropped by their mark (the cluster drop hook, guard.go), and a lost connection reloads
	// the slot map. detach unregisters the pipeline from the drop hook (Close).
	cluster *redis.ClusterClient
	detach  func()
	// fullDuplex: the autopipeliner streams each command as it is submitted (go-redis runs
	// the process hooks beside the write, on a goroutine of their own), so nothing can be
	// dropped and abandoned commands are not tracked.
	fullDuplex bool

	// abandoned holds the commands whose caller stopped waiting (ctx done) and that may not be
	// written yet; nAbandoned counts them, so dropHook costs one atomic load when none is.
	// (*redis.Client only; on a cluster the mark is on the command.)
	abandoned  sync.Map // redis.Cmder → struct{}
	nAbandoned atomic.Int64

	// direct is the go-redis client itself. A command submitted while no other is in flight
	// (inflight was 0) goes there: a lone caller pays no hand-off to a lane's goroutine.
	direct   redis.UniversalClient
	inflight atomic.Int64
	// degraded is set when a pipelined command failed on the connection (no reply from the
	// server); until a direct command gets a reply again every command goes direct. A dead
	// server then fails ops as fast as a plain client does: a batch that cannot dial its
	// pipeline connection spills to the main pool and dials again (go-redis
	// withPipelineConn), which doubles the time to fail and would hide a short outage from
	// the breaker.
	degraded atomic.Bool
}

// hookBeforeDrop is a hook the package's tests put on the clone ahead of dropHook (to hold a
// command's hook chain and force an interleaving); nil otherwise.
var hookBeforeDrop redis.Hook

// errDropped is the error a dropped command carries; nobody reads it (its caller has gone).
// It is a redis.Error so that go-redis treats it as one command's outcome: a transport-class
// error would make the autopipeliner fail the rest of a batch it sends in chunks
// (dispatchSequential, MaxBatchBytes).
var errDropped error = droppedError{}

type droppedError struct{}

func (droppedError) Error() string {
	return "igniter store: command dropped before it was written: its caller's context ended"
}
func (droppedError) RedisError() {}

// newPipeline returns the pipeline for rdb (a *redis.Client or a *redis.ClusterClient), or nil
// when rdb is a kind the store does not pipeline (Ring, a custom UniversalClient). cfg is
// go-redis's: its FullDuplex or MaxFlushDelay select go-redis's autopipeliner, its MaxBatchSize
// caps the store's lanes.
func newPipeline(rdb redis.UniversalClient, cfg *redis.AutoPipelineOptions) (*pipeline, error) {
	p := &pipeline{direct: rdb, maxBatch: cfg.MaxBatchSize}
	if p.maxBatch <= 0 {
		p.maxBatch = redis.DefaultAutoPipelineOptions().MaxBatchSize
	}
	goRedis := cfg.FullDuplex || cfg.MaxFlushDelay > 0 || cfg.AdaptiveDelay
	switch c := rdb.(type) {
	case *redis.Client:
		// A clone sharing the caller's pools (WithTimeout keeps them) so that dropHook is
		// installed on our clone only, never on the caller's client. The clone runs with the
		// client's read timeout for both reads and writes (go-redis's own default pairing).
		clone := c.WithTimeout(c.Options().ReadTimeout)
		if hookBeforeDrop != nil {
			clone.AddHook(hookBeforeDrop)
		}
		clone.AddHook(dropHook{p})
		if !goRedis {
			// The clone's reads and writes both use ReadTimeout: 0 after go-redis's
			// normalisation is -1, none.
			p.lane = newLane(p.maxBatch, c.Options().ReadTimeout == 0, execOn(clone.Pipeline()))
			return p, nil
		}
		ap, err := clone.AsyncAutoPipelineWithOptions(cfg)
		if err != nil {
			return nil, err
		}
		p.ap, p.owned = ap, true
		p.fullDuplex = ap.Config().FullDuplex
	case *redis.ClusterClient:
		p.cluster = c
		p.detach = AttachCluster(c) // one hook per client, whatever the number of stores
		if !goRedis {
			return p, nil // one lane per primary, made on first use (laneFor)
		}
		// The client's own cached deferred pipeliner, slot-sharded; see the type's comment
		// (Ownership) for why it is shared and never closed here.
		ap, err := c.AsyncAutoPipelineWithOptions(cfg)
		if err != nil {
			p.detach()
			return nil, err
		}
		p.ap = ap
		p.fullDuplex = ap.Config().FullDuplex
	default:
		return nil, nil
	}
	return p, nil
}

// execOn runs a lane's batches on pipe (the lane's own: one batch at a time), under the lane's
// ctx: a background one, as go-redis's pipeliner runs its batches, the connection's read and write
// timeouts bounding the batch; its callers' latest deadline when the client has none (lane.bound).
// A caller's ctx only ends its own wait.
func execOn(pipe redis.Pipeliner) func(context.Context, []redis.Cmder) {
	return func(ctx context.Context, cmds []redis.Cmder) {
		_ = pipe.BatchProcess(ctx, cmds...)
		_, _ = pipe.Exec(ctx) // every command carries its own reply or error
	}
}

// laneFor returns the lane of the cluster primary that serves cmd's first key (by the client's
// slot map; a command go-redis then maps elsewhere, after a slot moved, is still sent right: its
// batch is a cluster pipeline). Lanes are keyed by address, so a node's lane outlives the node
// client go-redis rebuilds on a reload; a keyless command or an unknown slot map shares the
// lane keyed "".
func (p *pipeline) laneFor(ctx context.Context, cmd redis.Cmder) *lane {
	addr := ""
	if key := firstKey(cmd); key != "" {
		if node, err := p.cluster.MasterForKey(ctx, key); err == nil {
			addr = node.Options().Addr
		}
	}
	if l, ok := p.lanes.Load(addr); ok {
		return l.(*lane)
	}
	p.lanesMu.Lock()
	defer p.lanesMu.Unlock()
	if l, ok := p.lanes.Load(addr); ok {
		return l.(*lane)
	}
	o := p.cluster.Options() // normalised: 0 is -1, none
	l := newLane(p.maxBatch, o.ReadTimeout == 0 || o.WriteTimeout == 0, execOn(p.cluster.Pipeline()))
	if p.closed.Load() {
		l.close() // raced with Close: the command gets redis.ErrClosed
	}
	p.lanes.Store(addr, l)
	return l
}

// firstKey is the first key of a command the pipeline carries: the argument after the name,
// or after EVAL's script and key count; "" for a script without keys.
func firstKey(cmd redis.Cmder) string {
	args := cmd.Args()
	pos := 1
	switch cmd.Name() {
	case "eval", "evalsha", "eval_ro", "evalsha_ro":
		pos = 3
	}
	if len(args) <= pos {
		return ""
	}
	k, _ := args[pos].(string)
	return k
}

func (p *pipeline) close() error {
	if p == nil {
		return nil
	}
	if p.detach != nil {
		p.detach()
	}
	p.closed.Store(true)
	p.stopLanes()
	if p.ap == nil || !p.owned {
		return nil
	}
	if err := p.ap.Close(); err != nil && !errors.Is(err, redis.ErrClosed) {
		return err
	}
	return nil
}

// stopLanes stops every lane and waits until each has run what was queued — or until no op of
// the pipeline is in flight any more: every caller has returned, by its reply or its ctx. A batch
// that nobody waits for can hold its lane for ever (a server that stopped answering, on a client
// without a read timeout: ReadTimeout -1), and Close must not wait for it; that lane's goroutine
// ends when its batch does. (go-redis's pipeliner gave up after a 30 s backstop.)
func (p *pipeline) stopLanes() {
	var stopped []*lane
	stop := func(l *lane) {
		if l.stop() {
			stopped = append(stopped, l)
		}
	}
	if p.lane != nil {
		stop(p.lane)
	}
	p.lanesMu.Lock()
	p.lanes.Range(func(_, l any) bool { stop(l.(*lane)); return true })
	p.lanesMu.Unlock()
	for _, l := range stopped {
		select {
		case <-l.exited:
			continue
		default:
		}
		// A batch still runs: look again every millisecond, as long as a caller waits.
		tick := time.NewTicker(time.Millisecond)
		for done := false; !done; {
			select {
			case <-l.exited:
				done = true
			case <-tick.C:
				done = p.inflight.Load() == 0
			}
		}
		tick.Stop()
	}
}

// future is a submitted command's completion, from a lane or from go-redis's pipeliner.
type future struct {
	b  *laneBatch
	af redis.AutoFuture
}

// submit queues cmd on the pipeline's engine.
func (p *pipeline) submit(ctx context.Context, cmd redis.Cmder) future {
	switch {
	case p.ap != nil:
		return future{af: p.ap.Submit(ctx, cmd)}
	case p.cluster != nil:
		return future{b: p.laneFor(ctx, cmd).submit(ctx, cmd)}
	}
	return future{b: p.lane.submit(ctx, cmd)}
}

// waitContext waits for cmd's reply, or for ctx: cmd's error, or ctx's.
func (f future) waitContext(ctx context.Context, cmd redis.Cmder) error {
	if f.b != nil {
		return f.b.waitContext(ctx, cmd)
	}
	return f.af.WaitContext(ctx)
}

// wait waits until the command's batch is done, dropped or written.
func (f future) wait() {
	if f.b != nil {
		<-f.b.done
		return
	}
	_ = f.af.Wait()
}

// do submits cmd and waits for it, or for ctx. After a nil return, cmd holds its reply.
func (p *pipeline) do(ctx context.Context, cmd redis.Cmder) error {
	if err := ctx.Err(); err != nil {
		return err // never queued
	}
	if p.sendsDirect(1) {
		if p.cluster != nil {
			err := p.direct.Process(ctx, noRetry(cmd)) // never re-sent once written (noretry.go)
			reloadOnFailure(p.cluster, err)
			return p.directDone(1, err)
		}
		return p.directDone(1, p.direct.Process(ctx, cmd))
	}
	defer p.inflight.Add(-1)
	// One command, the hot path: the same steps as doAll without its slices (two allocations
	// per op that issue #12's allocation budget has no room for).
	if p.cluster != nil {
		cmd = noRetry(cmd)
	}
	f := p.submit(ctx, cmd)
	err := f.waitContext(ctx, cmd)
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		p.abandon(ctx, []redis.Cmder{cmd}, []future{f})
		return err
	}
	return p.settled(err)
}

// doAll submits cmds together and waits for all of them, or for ctx; it returns the first
// error. When the pipeline sends direct (no other op in flight, or degraded), it runs direct
// instead.
func (p *pipeline) doAll(ctx context.Context, cmds []redis.Cmder, direct func(context.Context) error) error {
	if err := ctx.Err(); err != nil {
		return err // never queued
	}
	n := int64(len(cmds))
	if p.sendsDirect(n) {
		return p.directDone(n, direct(ctx))
	}
	defer p.inflight.Add(-n)
	subs := cmds
	if p.cluster != nil {
		subs = make([]redis.Cmder, len(cmds))
		for i, c := range cmds {
			subs[i] = noRetry(c)
		}
	}
	futures := make([]future, len(subs))
	for i, c := range subs {
		futures[i] = p.submit(ctx, c)
	}
	var first error
	for i, f := range futures {
		err := f.waitContext(ctx, subs[i])
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			p.abandon(ctx, subs[i:], futures[i:])
			return err
		}
		if err = p.settled(err); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// sendsDirect counts n commands in flight and reports whether they go direct, on the client
// itself, rather than in a batch: when nothing else is in flight (a lone caller pays no
// hand-off to a lane's goroutine), after a lost connection (degraded), or when the pipeline was
// closed. The caller then calls directDone.
func (p *pipeline) sendsDirect(n int64) bool {
	if p.inflight.Add(n) == n || p.degraded.Load() || p.isClosed() {
		return true
	}
	return false
}

// directDone ends a direct send of n commands: a reply (even an error reply) ends degraded.
func (p *pipeline) directDone(n int64, err error) error {
	p.inflight.Add(-n)
	if !lostConnection(err) && p.degraded.Load() {
		p.degraded.Store(false)
	}
	return err
}

// settled is the outcome of a pipelined command whose wait ended with err: a lost connection
// sends the next ops direct (degraded) and, on a cluster, reloads the slot map. The executor
// maps a lost reply (lostReplyOf) as on the direct path.
func (p *pipeline) settled(err error) error {
	if err == nil {
		return nil
	}
	if lostConnection(err) {
		p.degraded.Store(true)
	}
	if p.cluster != nil {
		reloadOnFailure(p.cluster, err)
	}
	return err
}

// isClosed reports whether the pipeline (or go-redis's pipeliner under it) was closed.
func (p *pipeline) isClosed() bool {
	return p.closed.Load() || (p.ap != nil && p.ap.IsClosed())
}

// abandon marks the commands whose caller leaves, so that they are dropped if their batch has
// not passed the drop hook yet. A Settle in ctx (WithSettle) is told of each (Left), and of its
// outcome once its batch is done (Settled): written and answered, failed, or dropped unwritten.
func (p *pipeline) abandon(ctx context.Context, cmds []redis.Cmder, futures []future) {
	// In full duplex a command is streamed as it is submitted: it runs, and its reply is
	// discarded. On a cluster the mark is on the command (dropAbandoned reads it). Otherwise
	// each is marked for dropHook, and the mark forgotten when its batch completes (written or
	// dropped) so the set only holds live commands.
	track := !p.fullDuplex && p.cluster == nil
	for i, cmd := range cmds {
		switch {
		case p.fullDuplex:
		case p.cluster != nil:
			cmd.(storeCmd).abandon()
		default:
			p.abandoned.Store(cmd, struct{}{})
			p.nAbandoned.Add(1)
		}
		s := settleForCmd(ctx, cmd)
		if !track && s == nil {
			continue
		}
		if s != nil {
			s.Left()
		}
		f := futures[i]
		go func() {
			f.wait()
			if track {
				p.forget(cmd)
			}
			if s != nil {
				err := cmd.Err()
				_ = ops.Recover("store.pipeline.settled", func() { s.Settled(err != errDropped, err) })
			}
		}()
	}
}

// lostConnection reports whether err means the command got no reply: a transport failure,
// not a reply of the server (redis.Nil and error replies mean it answered) nor a ctx error.
func lostConnection(err error) bool {
	if err == nil || err == redis.Nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var reply redis.Error
	return !errors.As(err, &reply)
}

// dropHook removes abandoned commands from a batch right before it is written.
//
// A lane's batch is a Pipeline.Exec, so it meets ProcessPipelineHook, whatever its size. A
// batch of one command is not a pipeline to go-redis's autopipeliner (the flush-delay mode): it
// runs it through the process hooks (flushBatchSlice's single-command path), so dropHook drops
// there too — without it, a queued op whose caller left and that ended up alone in its batch
// was written.
// The process hook never sets the command's error: go-redis records the hook's verdict itself
// once it owns the command again. In full-duplex mode go-redis runs the process hooks on a
// goroutine of their own while the command is streamed and its reply read, so a hook that wrote
// the command would race with the reader (go-redis's full-duplex contract); nothing is
// abandoned there (pipeline.abandon), so the hook only passes it on.
type dropHook struct{ p *pipeline }

func (dropHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h dropHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if h.p.nAbandoned.Load() != 0 && h.p.forget(cmd) {
			return errDropped
		}
		return next(ctx, cmd)
	}
}

func (h dropHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		p := h.p
		if p.nAbandoned.Load() == 0 {
			return next(ctx, cmds)
		}
		live := withoutDropped(cmds, p.forget)
		if len(live) == 0 {
			return nil
		}
		return next(ctx, live)
	}
}

// forget removes cmd from the abandoned set; it reports whether cmd was there.
func (p *pipeline) forget(cmd redis.Cmder) bool {
	_, gone := p.abandoned.LoadAndDelete(cmd)
	if gone {
		p.nAbandoned.Add(-1)
	}
	return gone
}

// withoutDropped returns cmds without the commands gone reports abandoned, each given
// errDropped (nobody reads it: its caller has left); cmds itself when none is. Both drop hooks
// use it: dropHook on a *redis.Client, dropAbandoned on a cluster's node batches.
func withoutDropped(cmds []redis.Cmder, gone func(redis.Cmder) bool) []redis.Cmder {
	var live []redis.Cmder
	for i, c := range cmds {
		if gone(c) {
			if live == nil {
				live = make([]redis.Cmder, i, len(cmds))
				copy(live, cmds[:i])
			}
			c.SetErr(errDropped)
			continue
		}
		if live != nil {
			live = append(live, c)
		}
	}
	if live == nil {
		return cmds
	}
	return live
}

// evalScripter is the redis.Scripter the claim, lease and recipe scripts run on: EVALSHA and EVAL
// are built here and handed to send (the pipeline, or a cluster client's never-re-sent Process),
// so redis.Script.Run (EVALSHA, then EVAL on NOSCRIPT) works on either; the script-management
// commands go to rdb.
type evalScripter struct {
	send func(ctx context.Context, cmd *redis.Cmd) *redis.Cmd
	rdb  redis.Scripter
}

func (s evalScripter) eval(ctx context.Context, name, payload string, keys []string, args []any) *redis.Cmd {
	a := make([]any, 0, 3+len(keys)+len(args))
	a = append(a, name, payload, len(keys))
	for _, k := range keys {
		a = append(a, k)
	}
	a = append(a, args...)
	cmd := redis.NewCmd(ctx, a...)
	if len(keys) > 0 {
		cmd.SetFirstKeyPos(3)
	}
	return s.send(ctx, cmd)
}

func (s evalScripter) Eval(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return s.eval(ctx, "eval", script, keys, args)
}

func (s evalScripter) EvalSha(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return s.eval(ctx, "evalsha", sha1, keys, args)
}

func (s evalScripter) EvalRO(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return s.eval(ctx, "eval_ro", script, keys, args)
}

func (s evalScripter) EvalShaRO(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return s.eval(ctx, "evalsha_ro", sha1, keys, args)
}

func (s evalScripter) ScriptExists(ctx context.Context, hashes ...string) *redis.BoolSliceCmd {
	return s.rdb.ScriptExists(ctx, hashes...)
}

func (s evalScripter) ScriptLoad(ctx context.Context, script string) *redis.StringCmd {
	return s.rdb.ScriptLoad(ctx, script)
}

// scripter is what the claim and lease scripts run on: the pipeline when there is one.
func (e *Executor) scripter() redis.Scripter {
	if e.piped != nil {
		return e.piped
	}
	return e.lone
}

// loneScripter is what scripts run on outside the pipeline.
func (e *Executor) loneScripter() redis.Scripter { return e.lone }

// newPipeScripter runs scripts through the pipeline p.
func newPipeScripter(p *pipeline, rdb redis.Scripter) redis.Scripter {
	return evalScripter{rdb: rdb, send: func(ctx context.Context, cmd *redis.Cmd) *redis.Cmd {
		if err := p.do(ctx, cmd); err != nil {
			// cmd may still be in flight: hand back a fresh command carrying the ctx error.
			out := redis.NewCmd(ctx, cmd.Args()...)
			out.SetErr(err)
			return out
		}
		return cmd
	}}
}

// newLoneScripter runs scripts outside the pipeline: on a cluster, EVALSHA and EVAL are sent as
// sendOnce sends (never twice once written); elsewhere on the client itself.
func newLoneScripter(rdb redis.UniversalClient) redis.Scripter {
	c, ok := rdb.(*redis.ClusterClient)
	if !ok {
		return rdb
	}
	return evalScripter{rdb: c, send: func(ctx context.Context, cmd *redis.Cmd) *redis.Cmd {
		reloadOnFailure(c, c.Process(ctx, noRetry(cmd)))
		return cmd
	}}
}

// StartPipeline makes the executor send its short commands in shared batches configured by cfg
// (client.PipelineOptions builds it): on the store's lanes, or on go-redis's automatic pipeliner
// when cfg asks for full duplex or a flush delay (see pipeline). Call it before the executor runs
// any op. A client the store does not pipeline (Ring, a custom UniversalClient) is left as it
// is. On a ClusterClient it attaches to the client's one drop hook (AttachCluster; Close
// detaches); in the go-redis modes cfg applies only if nobody asked the client for its deferred
// autopipeliner before (go-redis caches one per client, first config wins). It never touches
// the network, and starts no goroutine: a lane's starts with its first command.
func (e *Executor) StartPipeline(cfg *redis.AutoPipelineOptions) error {
	p, err := newPipeline(e.rdb, cfg)
	if err != nil {
		return err
	}
	e.pipe = p
	e.piped = newPipeScripter(p, e.rdb)
	return nil
}

// Close stops what the executor started (the pipeline's lanes, or the clone's autopipeliner),
// once the commands already queued have run; the go-redis client stays the caller's.
func (e *Executor) Close() error { return e.pipe.close() }

// Abandoned is the number of pipelined commands whose caller left (its ctx ended) while its
// batch was not done yet; each leaves the count when its batch is done, dropped or written. On
// a *redis.Client only (a cluster marks the command instead): for tests and diagnostics.
func (e *Executor) Abandoned() int64 {
	if e.pipe == nil {
		return 0
	}
	return e.pipe.nAbandoned.Load()
}

// PipelineState reports whether the executor pipelines, how many pipelined commands are being
// awaited, and whether it sends direct after a lost connection: for tests and diagnostics.
func (e *Executor) PipelineState() (on bool, waiting int64, degraded bool) {
	if e.pipe == nil {
		return false, 0, false
	}
	return true, e.pipe.inflight.Load(), e.pipe.degraded.Load()
}
