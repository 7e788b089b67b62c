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

// pipeline sends the executor's short, non-blocking commands through go-redis's automatic
// pipeliner, so the commands of many concurrent callers share one write and one read on one
// connection instead of taking a pooled connection each (issue #12).
//
// It uses the library's deferred face (AsyncAutoPipeline) with its ordered defaults (one
// shard, one batch in flight), and waits for each command itself, so that each op keeps the
// semantics of a plain go-redis call:
//
//   - ordering: a caller's next op is submitted only after its previous one returned, and the
//     stream is ordered, so one goroutine's ops run in its order;
//   - replies and errors are per command: a WRONGTYPE fails its own op only;
//   - ctx: the wait ends with the caller's ctx error (AutoFuture.WaitContext). A command that
//     has not been written yet is then dropped — the library cannot do that (it writes every
//     queued command), so dropHook removes abandoned commands from the batch right before the
//     write; a command already written runs, and its reply is discarded;
//   - a lost connection fails every command of the batch whose reply was not read with the
//     transport error (ops.ErrUnavailable); the client runs with MaxRetries -1, so nothing is
//     replayed below the store, and the retry middleware retries only idempotent ops;
//   - MULTI/EXEC (Batch.Set), blocking stream reads, pub/sub and every other command keep
//     running on the go-redis client itself, never inside a shared batch.
type pipeline struct {
	ap *redis.AutoPipeliner
	// owned: Close closes ap (it was built on a private clone of the caller's client).
	owned bool

	// abandoned holds the commands whose caller stopped waiting (ctx done) and that may not be
	// written yet; nAbandoned counts them, so dropHook costs one atomic load when none is.
	abandoned  sync.Map // redis.Cmder → struct{}
	nAbandoned atomic.Int64

	// direct is the go-redis client itself. A command submitted while no other is in flight
	// (inflight was 0) goes there: a lone caller pays no hand-off to the flusher goroutine.
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

// errDropped is the error a dropped command carries; nobody reads it (its caller has gone).
var errDropped = errors.New("igniter store: command dropped before it was written: its caller's context ended")

// newPipeline returns the pipeline for rdb, or nil when rdb is a kind the store does not
// pipeline (Ring, a custom UniversalClient).
func newPipeline(rdb redis.UniversalClient, cfg *redis.AutoPipelineOptions) (*pipeline, error) {
	p := &pipeline{direct: rdb}
	switch c := rdb.(type) {
	case *redis.Client:
		// A clone sharing the caller's pools (WithTimeout keeps them) so that dropHook is
		// installed on our clone only, never on the caller's client. The clone runs with the
		// client's read timeout for both reads and writes (go-redis's own default pairing).
		clone := c.WithTimeout(c.Options().ReadTimeout)
		clone.AddHook(dropHook{p})
		ap, err := clone.AsyncAutoPipelineWithOptions(cfg)
		if err != nil {
			return nil, err
		}
		p.ap, p.owned = ap, true
	case *redis.ClusterClient:
		// Not pipelined, for now. go-redis's cluster pipeline re-sends a whole batch after a
		// transport error (osscluster.go, processPipelineNode: shouldRetry unless a command
		// says NoRetry), so a batch whose replies were lost would apply its INCRs twice, which
		// the lost-reply guard (guard.go) prevents for single commands only; and the store's
		// Batch.Get must be split per slot first (cluster_batch.go). Each op runs on the
		// cluster client as before, with the guard.
		return nil, nil
	default:
		return nil, nil
	}
	return p, nil
}

func (p *pipeline) close() error {
	if p == nil || !p.owned {
		return nil
	}
	if err := p.ap.Close(); err != nil && !errors.Is(err, redis.ErrClosed) {
		return err
	}
	return nil
}

// do submits cmd and waits for it, or for ctx. After a nil return, cmd holds its reply.
func (p *pipeline) do(ctx context.Context, cmd redis.Cmder) error {
	if err := ctx.Err(); err != nil {
		return err // never queued
	}
	if p.inflight.Add(1) == 1 || p.degraded.Load() {
		err := p.direct.Process(ctx, cmd)
		p.inflight.Add(-1)
		if !lostConnection(err) && p.degraded.Load() {
			p.degraded.Store(false)
		}
		return err
	}
	defer p.inflight.Add(-1)
	f := p.ap.Submit(ctx, cmd)
	err := f.WaitContext(ctx)
	if ctx.Err() == nil || !errors.Is(err, ctx.Err()) {
		if lostConnection(err) {
			p.degraded.Store(true)
		}
		return err
	}
	// The caller leaves. Mark cmd so dropHook drops it if it is still queued; forget the mark
	// when its batch completes (written or dropped) so the set only holds live commands.
	p.abandoned.Store(cmd, struct{}{})
	p.nAbandoned.Add(1)
	go func() {
		_ = f.Wait()
		if _, ok := p.abandoned.LoadAndDelete(cmd); ok {
			p.nAbandoned.Add(-1)
		}
	}()
	return err
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
type dropHook struct{ p *pipeline }

func (dropHook) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (dropHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (h dropHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		p := h.p
		if p.nAbandoned.Load() == 0 {
			return next(ctx, cmds)
		}
		live := make([]redis.Cmder, 0, len(cmds))
		for _, c := range cmds {
			if _, gone := p.abandoned.LoadAndDelete(c); gone {
				p.nAbandoned.Add(-1)
				c.SetErr(errDropped)
				continue
			}
			live = append(live, c)
		}
		if len(live) == 0 {
			return nil
		}
		return next(ctx, live)
	}
}

// run executes op through the pipeline when its kind is one the pipeline carries; ok is false
// for every other kind, which the executor then runs on the go-redis client.
func (p *pipeline) run(ctx context.Context, op ops.Op) (res ops.Result, ok bool, err error) {
	switch op.Kind {
	case ops.KVGet:
		cmd := redis.NewStringCmd(ctx, "get", op.Key)
		if err := p.do(ctx, cmd); err != nil {
			if err == redis.Nil {
				return ops.Result{}, true, nil
			}
			return ops.Result{}, true, err
		}
		b, _ := cmd.Bytes()
		return ops.Result{Value: b, Bool: true}, true, nil
	case ops.KVSet:
		cmd := redis.NewStatusCmd(ctx, setArgs(ctx, op.Key, op.Value, op.TTL, "")...)
		return ops.Result{}, true, p.wait(ctx, cmd)
	case ops.KVRemove:
		cmd := redis.NewIntCmd(ctx, "del", op.Key)
		if err := p.wait(ctx, cmd); err != nil {
			return ops.Result{}, true, err
		}
		return ops.Result{Int: cmd.Val()}, true, nil
	case ops.KVExists:
		cmd := redis.NewIntCmd(ctx, "exists", op.Key)
		if err := p.wait(ctx, cmd); err != nil {
			return ops.Result{}, true, err
		}
		return ops.Result{Bool: cmd.Val() == 1, Int: cmd.Val()}, true, nil
	case ops.KVExpire, ops.KVTouch, ops.CounterExpire:
		cmd := redis.NewBoolCmd(ctx, expireArgs(ctx, op.Key, op.TTL)...)
		if err := p.wait(ctx, cmd); err != nil {
			return ops.Result{}, true, err
		}
		return ops.Result{Bool: cmd.Val()}, true, nil
	case ops.CounterIncrement, ops.CounterDecrement:
		var cmd *redis.IntCmd
		if op.N == 1 {
			cmd = redis.NewIntCmd(ctx, "incr", op.Key)
		} else {
			cmd = redis.NewIntCmd(ctx, "incrby", op.Key, op.N)
		}
		if err := p.wait(ctx, cmd); err != nil {
			return ops.Result{}, true, err
		}
		return ops.Result{Int: cmd.Val()}, true, nil
	case ops.ClaimOnce:
		if op.TTL == 0 { // SETNX, as the original
			cmd := redis.NewIntCmd(ctx, "setnx", op.Key, op.Value)
			if err := p.wait(ctx, cmd); err != nil {
				return ops.Result{}, true, err
			}
			return ops.Result{Bool: cmd.Val() == 1}, true, nil
		}
		cmd := redis.NewBoolCmd(ctx, setArgs(ctx, op.Key, op.Value, op.TTL, "nx")...)
		if err := p.wait(ctx, cmd); err != nil && err != redis.Nil {
			return ops.Result{}, true, err
		}
		return ops.Result{Bool: cmd.Val()}, true, nil
	case ops.BatchGet:
		args := make([]any, 1+len(op.Keys))
		args[0] = "mget"
		for i, k := range op.Keys {
			args[1+i] = k
		}
		cmd := redis.NewSliceCmd(ctx, args...)
		if err := p.wait(ctx, cmd); err != nil {
			return ops.Result{}, true, err
		}
		vals := cmd.Val()
		out := make([][]byte, len(vals))
		for i, v := range vals {
			if s, ok := v.(string); ok {
				out[i] = []byte(s)
			}
		}
		return ops.Result{Values: out}, true, nil
	case ops.EventsPublish:
		cmd := redis.NewIntCmd(ctx, "publish", op.Key, op.Value)
		if err := p.wait(ctx, cmd); err != nil {
			return ops.Result{}, true, err
		}
		return ops.Result{Int: cmd.Val()}, true, nil
	}
	return ops.Result{}, false, nil
}

// wait is do followed by the command's own reply error.
func (p *pipeline) wait(ctx context.Context, cmd redis.Cmder) error {
	if err := p.do(ctx, cmd); err != nil {
		return err
	}
	return cmd.Err()
}

// setArgs builds SET key value [EX s|PX ms] [NX] exactly as go-redis's Set and SetNX do.
func setArgs(ctx context.Context, key string, value any, ttl time.Duration, mode string) []any {
	args := make([]any, 3, 6)
	args[0], args[1], args[2] = "set", key, value
	if ttl > 0 {
		if usePrecise(ttl) {
			args = append(args, "px", formatMs(ttl))
		} else {
			args = append(args, "ex", formatSec(ttl))
		}
	}
	if mode != "" {
		args = append(args, mode)
	}
	_ = ctx
	return args
}

// expireArgs: PERSIST for 0, EXPIRE for whole seconds, PEXPIRE otherwise (as expire).
func expireArgs(ctx context.Context, key string, ttl time.Duration) []any {
	_ = ctx
	switch {
	case ttl == 0:
		return []any{"persist", key}
	case ttl%time.Second == 0:
		return []any{"expire", key, formatSec(ttl)}
	}
	return []any{"pexpire", key, formatMs(ttl)}
}

// usePrecise, formatMs and formatSec are go-redis's (commands.go), so the bytes on the wire
// stay those of its typed methods (the golden tests compare them).
func usePrecise(d time.Duration) bool { return d < time.Second || d%time.Second != 0 }

func formatMs(d time.Duration) int64 {
	if d > 0 && d < time.Millisecond {
		return 1
	}
	return int64(d / time.Millisecond)
}

func formatSec(d time.Duration) int64 {
	if d > 0 && d < time.Second {
		return 1
	}
	return int64(d / time.Second)
}

// pipeScripter runs EVALSHA and EVAL through the pipeline, so redis.Script.Run (EVALSHA, then
// EVAL on NOSCRIPT) works inside a batch; the script-management commands go to the client.
type pipeScripter struct {
	p   *pipeline
	rdb redis.UniversalClient
}

func (s pipeScripter) eval(ctx context.Context, name, payload string, keys []string, args []any) *redis.Cmd {
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
	if err := s.p.do(ctx, cmd); err != nil {
		// cmd may still be in flight: hand back a fresh command carrying the ctx error.
		out := redis.NewCmd(ctx, a...)
		out.SetErr(err)
		return out
	}
	return cmd
}

func (s pipeScripter) Eval(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return s.eval(ctx, "eval", script, keys, args)
}

func (s pipeScripter) EvalSha(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return s.eval(ctx, "evalsha", sha1, keys, args)
}

func (s pipeScripter) EvalRO(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return s.eval(ctx, "eval_ro", script, keys, args)
}

func (s pipeScripter) EvalShaRO(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return s.eval(ctx, "evalsha_ro", sha1, keys, args)
}

func (s pipeScripter) ScriptExists(ctx context.Context, hashes ...string) *redis.BoolSliceCmd {
	return s.rdb.ScriptExists(ctx, hashes...)
}

func (s pipeScripter) ScriptLoad(ctx context.Context, script string) *redis.StringCmd {
	return s.rdb.ScriptLoad(ctx, script)
}

// scripter is what the claim and lease scripts run on: the pipeline when there is one.
func (e *Executor) scripter() redis.Scripter {
	if e.pipe != nil {
		return pipeScripter{p: e.pipe, rdb: e.rdb}
	}
	return e.rdb
}

// StartPipeline makes the executor send its short commands through go-redis's automatic
// pipeliner configured by cfg (client.PipelineOptions builds it). Call it before the executor
// runs any op. A client the store does not pipeline (Ring, a custom UniversalClient) is left
// as it is.
func (e *Executor) StartPipeline(cfg *redis.AutoPipelineOptions) error {
	p, err := newPipeline(e.rdb, cfg)
	if err != nil {
		return err
	}
	e.pipe = p
	return nil
}

// Close stops what the executor started (the pipeline's flusher); the go-redis client stays
// the caller's.
func (e *Executor) Close() error { return e.pipe.close() }

// PipelineState reports whether the executor pipelines, how many pipelined commands are being
// awaited, and whether it sends direct after a lost connection: for tests and diagnostics.
func (e *Executor) PipelineState() (on bool, waiting int64, degraded bool) {
	if e.pipe == nil {
		return false, 0, false
	}
	return true, e.pipe.inflight.Load(), e.pipe.degraded.Load()
}
