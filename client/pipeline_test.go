package client

// The pipelining executor's per-op semantics, on a real redis-server (issue #12). No timing:
// the tests hold a batch on the server with CLIENT PAUSE WRITE (a paused client is blocked at
// its first write, the rest of its pipeline unread) and release it with CLIENT UNPAUSE, so which
// ops are in flight and which are queued is known, not guessed.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/internal/executor"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
)

type pipeFixture struct {
	st    *Store
	exec  *executor.Executor
	admin *redis.Client
	// attempts records each executor call (each attempt) of an op, by key: the user
	// middleware sits right before the executor.
	mu       sync.Mutex
	attempts map[string][]error
	gateID   string // the client id of hold's direct op
}

func newPipeFixture(t *testing.T, opts ...RedisOption) *pipeFixture {
	t.Helper()
	return newPipeFixtureOf(t, New(), opts...)
}

func newPipeFixtureOf(t *testing.T, b *Builder, opts ...RedisOption) *pipeFixture {
	t.Helper()
	srv := redistest.Start(t)
	a := Redis(srv.Client(t), opts...).(*redisAdapter)
	f := &pipeFixture{exec: a.exec, admin: srv.Client(t), attempts: map[string][]error{}}
	st, err := b.WithService("p").WithAdapter(a).Use(func(next ops.Handler) ops.Handler {
		return func(ctx context.Context, op ops.Op) (ops.Result, error) {
			res, err := next(ctx, op)
			f.mu.Lock()
			f.attempts[op.Key] = append(f.attempts[op.Key], err)
			f.mu.Unlock()
			return res, err
		}
	}).Build()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	f.st = st
	return f
}

// outcomeRecorder is a hook that records per key the error each command came back with from
// the hooks and the server below it. Installed before the store's hook (a cluster's node hook),
// it tells a command the store dropped before writing it (the executor's drop error) from a
// written one (its reply's). An entry appears when the command's batch is done.
type outcomeRecorder struct {
	mu   sync.Mutex
	errs map[string][]error
}

func newOutcomeRecorder() *outcomeRecorder { return &outcomeRecorder{errs: map[string][]error{}} }

func (r *outcomeRecorder) DialHook(next redis.DialHook) redis.DialHook { return next }

func (r *outcomeRecorder) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		r.recordErr(cmd, err) // the chain's verdict: go-redis sets it on cmd after the hooks return
		return err
	}
}

func (r *outcomeRecorder) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, c := range cmds {
			r.record(c)
		}
		return err
	}
}

func (r *outcomeRecorder) record(cmd redis.Cmder) { r.recordErr(cmd, nil) }

// recordErr records err, or cmd's own error when err is nil.
func (r *outcomeRecorder) recordErr(cmd redis.Cmder, err error) {
	if err == nil {
		err = cmd.Err()
	}
	if len(cmd.Args()) < 2 {
		return
	}
	key, _ := cmd.Args()[1].(string)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs[key] = append(r.errs[key], err)
}

// outcome waits until a command on key is done, and returns its error.
func (r *outcomeRecorder) outcome(t *testing.T, key string) error {
	t.Helper()
	var err error
	waitFor(t, "the command on "+key+" to be done", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		if errs := r.errs[key]; len(errs) > 0 {
			err = errs[0]
			return true
		}
		return false
	})
	return err
}

func (f *pipeFixture) attemptsOf(key string) []error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]error(nil), f.attempts[key]...)
}

// waitFor polls cond (a server or queue state that has no event to wait on).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func (f *pipeFixture) blocked(t *testing.T) int {
	t.Helper()
	return blockedOn(t, f.admin)
}

// waiting is the number of ops inside the pipeline (the gate, the held batch, the queued);
// the autopipeliner's own Len drops a command as soon as its flusher takes it, before the
// batch permit, so it cannot tell a queued op from a sent one.
func (f *pipeFixture) waiting() int { _, n, _ := f.exec.PipelineState(); return int(n) }

func (f *pipeFixture) pipelined() bool { on, _, _ := f.exec.PipelineState(); return on }

func (f *pipeFixture) degraded() bool { _, _, d := f.exec.PipelineState(); return d }

func pipelines(a *redisAdapter) bool { on, _, _ := a.exec.PipelineState(); return on }

// hold pauses writes and parks one op on the direct path (INCR gate), so every later op goes
// through the autopipeliner; then it starts first (a write) there and waits until its batch is
// written and blocked on the server. It returns first's outcome channel and the release.
func (f *pipeFixture) hold(t *testing.T, first func() error) (firstDone chan error, release func()) {
	t.Helper()
	ctx := context.Background()
	if err := f.admin.Do(ctx, "CLIENT", "PAUSE", 60_000, "WRITE").Err(); err != nil {
		t.Fatal(err)
	}
	released := false
	release = func() {
		if !released {
			released = true
			if err := f.admin.Do(ctx, "CLIENT", "UNPAUSE").Err(); err != nil {
				t.Error(err)
			}
		}
	}
	t.Cleanup(release)
	gate := make(chan error, 1)
	go func() { _, err := f.st.Counter.Increment(ctx, "gate"); gate <- err }()
	waitFor(t, "the direct op to block", func() bool { return f.blocked(t) == 1 })
	f.gateID = f.blockedIDs(t)[0]
	firstDone = make(chan error, 1)
	go func() { firstDone <- first() }()
	waitFor(t, "the first batch to block", func() bool { return f.blocked(t) == 2 })
	t.Cleanup(func() {
		if err := <-gate; err != nil {
			t.Errorf("gate: %v", err)
		}
	})
	return firstDone, release
}

func (f *pipeFixture) exists(t *testing.T, key string) bool {
	t.Helper()
	n, err := f.admin.Exists(context.Background(), key).Result()
	if err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func TestPipelineIsTheDefault(t *testing.T) {
	f := newPipeFixture(t)
	if !f.pipelined() {
		t.Fatal("the Redis adapter over a *redis.Client must pipeline by default")
	}
	srv := redistest.Start(t)
	if a := Redis(srv.Client(t), WithoutPipelining()).(*redisAdapter); pipelines(a) {
		t.Fatal("WithoutPipelining must send every command on the pool")
	}
}

// An op queued behind an in-flight batch whose ctx ends returns its ctx error at once and is
// never written; the ops around it run.
func TestPipelineDropsAQueuedOpWhoseCtxEnds(t *testing.T) {
	f := newPipeFixture(t)
	ctx := context.Background()
	first, release := f.hold(t, func() error { return f.st.KV.Set(ctx, "first", 1, 0) })
	dropped, after := assertQueuedOpDropped(t, f.st, "", f.waiting, first, release)
	if f.exists(t, "igniter:store:p:kv:"+dropped) {
		t.Fatal("a cancelled op that was still queued was written")
	}
	if !f.exists(t, "igniter:store:p:kv:"+after) || !f.exists(t, "igniter:store:p:kv:first") {
		t.Fatal("the ops around the dropped one must run")
	}
}

// The pipeline runs on a Client.WithTimeout clone of the caller's client, and go-redis does not
// carry hooks over to a clone: the caller's hooks (redisotel's, say) do not see pipelined
// commands, as PipelineOptions and the README say. This pins the go-redis behaviour those docs
// state; if a go-redis release starts carrying hooks over, the docs must change with it.
func TestPipelineCloneDoesNotRunTheCallersHooks(t *testing.T) {
	rdb := redistest.Start(t).Client(t)
	rec := newOutcomeRecorder()
	rdb.AddHook(rec)
	ctx := context.Background()
	if err := rdb.WithTimeout(rdb.Options().ReadTimeout).Set(ctx, "on-clone", 1, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, "on-client", 1, 0).Err(); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.errs["on-client"]) != 1 || len(rec.errs["on-clone"]) != 0 {
		t.Fatalf("hook saw the client's command %d time(s) and the clone's %d, want 1 and 0",
			len(rec.errs["on-client"]), len(rec.errs["on-clone"]))
	}
}

// A queued op whose ctx ends and that is alone in its batch is dropped too: go-redis runs a
// one-command batch through the process hooks, not the pipeline hooks, and before the drop
// hook had a process hook such an op was written.
func TestPipelineDropsALoneQueuedOpWhoseCtxEnds(t *testing.T) {
	f := newPipeFixture(t)
	ctx := context.Background()
	first, release := f.hold(t, func() error { return f.st.KV.Set(ctx, "first", 1, 0) })
	assertLoneQueuedOpLeaves(t, f.st, "", f.waiting, first, release)
	// The lone command leaves the abandoned set when its batch is done, dropped or written.
	waitFor(t, "the lone op's batch to be done", func() bool { return f.exec.Abandoned() == 0 })
	if f.exists(t, "igniter:store:p:kv:lone") {
		t.Fatal("a cancelled op that was still queued, alone in its batch, was written")
	}
}

// assertLoneQueuedOpLeaves queues one op (key prefix+"lone") behind the held batch (first, in
// flight until release), cancels it while it is queued, and checks that it returns its ctx
// error; then it releases the batch. The caller waits for the lone op's batch and checks that
// it was not written.
func assertLoneQueuedOpLeaves(t *testing.T, st *Store, prefix string, waiting func() int, first <-chan error, release func()) {
	t.Helper()
	cctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- st.KV.Set(cctx, prefix+"lone", 1, 0) }()
	waitFor(t, "the op to queue", func() bool { return waiting() == 2+1 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled op: %v, want context.Canceled", err)
	}
	release()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
}

// A dropped op in a batch that go-redis sends in chunks (over its MaxBatchBytes, 128 KiB) does
// not fail the chunks after it: the drop error is a reply-class error to go-redis, which stops
// a chunked batch only at a transport failure.
func TestPipelineDropInAChunkedBatchSparesTheRest(t *testing.T) {
	f := newPipeFixture(t)
	ctx := context.Background()
	first, release := f.hold(t, func() error { return f.st.KV.Set(ctx, "first", 1, 0) })
	cctx, cancel := context.WithCancel(ctx)
	droppedErr := make(chan error, 1)
	go func() { droppedErr <- f.st.KV.Set(cctx, "dropped", 1, 0) }()
	waitFor(t, "the op to queue", func() bool { return f.waiting() == 2+1 })
	// The dropped op, then one past the chunk limit, then one in the next chunk: the three
	// queue behind the held batch and go out as one batch of two chunks.
	bigErr, afterErr := make(chan error, 1), make(chan error, 1)
	go func() { bigErr <- f.st.KV.Set(ctx, "big", strings.Repeat("x", 130<<10), 0) }()
	waitFor(t, "the big op to queue", func() bool { return f.waiting() == 2+2 })
	go func() { afterErr <- f.st.KV.Set(ctx, "after", 1, 0) }()
	waitFor(t, "the next op to queue", func() bool { return f.waiting() == 2+3 })
	cancel()
	if err := <-droppedErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled op: %v, want context.Canceled", err)
	}
	release()
	for name, c := range map[string]chan error{"first": first, "big": bigErr, "after": afterErr} {
		if err := <-c; err != nil {
			t.Fatalf("%s: %v (a dropped op must not fail the rest of a chunked batch)", name, err)
		}
	}
	if f.exists(t, "igniter:store:p:kv:dropped") {
		t.Fatal("a cancelled op that was still queued was written")
	}
	if !f.exists(t, "igniter:store:p:kv:big") || !f.exists(t, "igniter:store:p:kv:after") {
		t.Fatal("the ops around the dropped one must run")
	}
}

// assertQueuedOpDropped runs the drop scenario behind a held batch: first (already started) is
// in flight and blocked at the server until release; an op whose ctx is then cancelled while
// it is queued must return at once with a coded cancellation, and an op queued after it must
// still run. waiting is how many pipelined commands are awaited (2 are the held batch's). It
// returns the store keys of the dropped and the following op (under prefix), for the caller to
// check on the server.
func assertQueuedOpDropped(t *testing.T, st *Store, prefix string, waiting func() int, first <-chan error, release func()) (dropped, after string) {
	t.Helper()
	ctx := context.Background()
	cctx, cancel := context.WithCancel(ctx)
	droppedErr := make(chan error, 1)
	go func() { droppedErr <- st.KV.Set(cctx, prefix+"dropped", 1, 0) }()
	waitFor(t, "the op to queue", func() bool { return waiting() == 2+1 })
	afterErr := make(chan error, 1)
	go func() { afterErr <- st.KV.Set(ctx, prefix+"after", 1, 0) }()
	waitFor(t, "the next op to queue", func() bool { return waiting() == 2+2 })

	cancel()
	err := <-droppedErr
	if !errors.Is(err, context.Canceled) || !errors.Is(err, ops.ErrCanceled) {
		t.Fatalf("cancelled op: %v, want a coded cancellation wrapping context.Canceled", err)
	}
	select {
	case err := <-first:
		t.Fatalf("the held batch finished (%v) before the server was released", err)
	default: // the cancelled op did not wait for the batch ahead of it
	}
	release()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-afterErr; err != nil {
		t.Fatal(err)
	}
	return prefix + "dropped", prefix + "after"
}

// An op already written when its ctx ends: the caller gets its ctx error, the command runs on
// the server, and its reply is discarded without shifting anyone else's reply.
func TestPipelineCancelOfAWrittenOpDiscardsItsReply(t *testing.T) {
	f := newPipeFixture(t)
	ctx := context.Background()
	if err := f.st.KV.Set(ctx, "v", "value", 0); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	inFlight, release := f.hold(t, func() error { _, err := f.st.Counter.Increment(cctx, "c"); return err })
	got := make(chan string, 1)
	go func() {
		b, _, err := f.st.KV.GetRaw(ctx, "v")
		if err != nil {
			got <- err.Error()
			return
		}
		got <- string(b)
	}()
	waitFor(t, "the read to queue", func() bool { return f.waiting() == 2+1 })

	cancel()
	if err := <-inFlight; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled in-flight op: %v, want context.Canceled", err)
	}
	release()
	if v := <-got; v != `"value"` {
		t.Fatalf("the op behind the cancelled one read %q, want its own reply", v)
	}
	if n, err := f.st.Counter.Increment(ctx, "c"); err != nil || n != 2 {
		t.Fatalf("counter after the written, cancelled INCR: %d %v, want 2", n, err)
	}
}

// One batch holding ops that fail in different ways and ops that succeed: each gets its own
// reply; a Lua script whose EVALSHA meets NOSCRIPT inside the batch falls back to EVAL.
func TestPipelineMixedErrorsInOneBatch(t *testing.T) {
	f := newPipeFixture(t)
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.admin.LPush(ctx, "igniter:store:p:kv:list", "x").Err())
	must(f.admin.Set(ctx, "igniter:store:p:counter:text", "abc", 0).Err())
	must(f.st.KV.Set(ctx, "good", "g", 0))
	if ok, err := f.st.Claim.Once(ctx, "job", "me", time.Minute); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	must(f.admin.ScriptFlush(ctx).Err()) // the release script's EVALSHA will meet NOSCRIPT

	first, release := f.hold(t, func() error { return f.st.KV.Set(ctx, "first", 1, 0) })
	type outcome struct {
		name string
		v    any
		err  error
	}
	out := make(chan outcome, 8)
	calls := map[string]func() (any, error){
		"get-wrongtype": func() (any, error) { _, ok, err := f.st.KV.GetRaw(ctx, "list"); return ok, err },
		"get-good":      func() (any, error) { b, _, err := f.st.KV.GetRaw(ctx, "good"); return string(b), err },
		"get-missing":   func() (any, error) { _, ok, err := f.st.KV.GetRaw(ctx, "missing"); return ok, err },
		"incr-text":     func() (any, error) { return f.st.Counter.Increment(ctx, "text") },
		"incr-new":      func() (any, error) { return f.st.Counter.Increment(ctx, "new") },
		"release":       func() (any, error) { return f.st.Claim.Release(ctx, "job", "me") },
		"set":           func() (any, error) { return nil, f.st.KV.Set(ctx, "set", 2, 0) },
	}
	for name, op := range calls {
		go func() { v, err := op(); out <- outcome{name, v, err} }()
	}
	waitFor(t, "every op to queue behind the held batch", func() bool { return f.waiting() == 2+len(calls) })
	release()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	got := map[string]outcome{}
	for range calls {
		o := <-out
		got[o.name] = o
	}
	if o := got["get-wrongtype"]; !isReplyError(o.err, "WRONGTYPE") {
		t.Errorf("get of a list: %v, want its own WRONGTYPE error", o.err)
	}
	if o := got["incr-text"]; !isReplyError(o.err, "value is not an integer") {
		t.Errorf("incr of text: %v, want its own ERR reply", o.err)
	}
	for name, want := range map[string]any{"get-good": `"g"`, "get-missing": false, "incr-new": int64(1), "release": true, "set": nil} {
		if o := got[name]; o.err != nil || o.v != want {
			t.Errorf("%s: %v %v, want %v and no error", name, o.v, o.err, want)
		}
	}
}

// isReplyError reports whether err is a coded failure wrapping a Redis reply with prefix.
func isReplyError(err error, prefix string) bool {
	var reply redis.Error
	return errors.Is(err, ops.ErrFailed) && errors.As(err, &reply) && redis.HasErrorPrefix(reply, prefix)
}

// The pipeline connection is killed while a batch waits for its replies: every op of the
// batch sees an unavailable (ambiguous) failure; the writes are not retried, so none of them
// runs; the idempotent read is retried by the retry middleware.
func TestPipelineConnectionKilledMidBatch(t *testing.T) {
	// Without the breaker: the batch's failures would open it and reject the read's retry.
	f := newPipeFixtureOf(t, New().WithoutBreaker())
	ctx := context.Background()
	if err := f.st.KV.Set(ctx, "g", "g", 0); err != nil {
		t.Fatal(err)
	}
	first, release := f.hold(t, func() error { return f.st.KV.Remove(ctx, "w") })
	type outcome struct {
		key string
		err error
	}
	out := make(chan outcome, 4)
	// Three writes and a read: the server blocks the connection at the batch's first write,
	// so no write of the batch runs.
	go func() { _, err := f.st.Counter.Increment(ctx, "c1"); out <- outcome{"c1", err} }()
	go func() { _, err := f.st.Counter.Increment(ctx, "c2"); out <- outcome{"c2", err} }()
	go func() { out <- outcome{"s", f.st.KV.Set(ctx, "s", 1, 0)} }()
	go func() { _, _, err := f.st.KV.GetRaw(ctx, "g"); out <- outcome{"g", err} }()
	waitFor(t, "the batch to queue", func() bool { return f.waiting() == 2+4 })

	// Kill the connection of the held batch: the queued batch goes out next, on a new
	// connection, and blocks at its first write; kill that one too, mid-batch.
	f.killBlocked(t)
	if err := <-first; !errors.Is(err, ops.ErrUnavailable) {
		t.Fatalf("op of the killed batch: %v, want an unavailable failure", err)
	}
	if !f.degraded() {
		t.Fatal("after a lost connection new ops must go direct (fail as fast as a plain client) until the server answers")
	}
	waitFor(t, "the next batch to block", func() bool { return f.blocked(t) == 2 })
	f.killBlocked(t)
	for range 4 {
		o := <-out
		switch o.key {
		case "g":
			if o.err != nil {
				t.Errorf("the idempotent read must succeed on retry: %v", o.err)
			}
		default:
			if !errors.Is(o.err, ops.ErrUnavailable) {
				t.Errorf("write %s of the killed batch: %v, want an unavailable failure", o.key, o.err)
			}
		}
	}
	release()
	if _, err := f.st.KV.Exists(ctx, "other"); err != nil || f.degraded() {
		t.Fatalf("a reply must end the direct mode: %v, degraded %v", err, f.degraded())
	}
	for _, key := range []string{"igniter:store:p:counter:c1", "igniter:store:p:kv:s"} {
		if atts := f.attemptsOf(key); len(atts) != 1 || !errors.Is(atts[0], ops.ErrUnavailable) {
			t.Errorf("%s: executor attempts %v, want exactly one, unavailable", key, atts)
		}
	}
	// attempts on g: the setup Set, then the read. The read was unanswered (it queued behind a
	// write of the batch, then failed and was retried) or answered before the connection died
	// (it came first in the batch, reads are not paused): never failed without a retry.
	if atts := f.attemptsOf("igniter:store:p:kv:g"); !(len(atts) == 2 && atts[1] == nil) &&
		!(len(atts) == 3 && errors.Is(atts[1], ops.ErrUnavailable) && atts[2] == nil) {
		t.Errorf("read in the killed batch: attempts %v, want success, or an unavailable failure then a retry", atts)
	}
	for _, key := range []string{"igniter:store:p:counter:c1", "igniter:store:p:counter:c2", "igniter:store:p:kv:s", "igniter:store:p:kv:w"} {
		if f.exists(t, key) {
			t.Errorf("%s exists: a write of a killed batch ran or was replayed", key)
		}
	}
}

// blockedIDs lists the ids of the clients the pause blocks, in connection order.
func (f *pipeFixture) blockedIDs(t *testing.T) []string {
	t.Helper()
	list, err := f.admin.ClientList(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
		fields := map[string]string{}
		for _, kv := range strings.Fields(line) {
			if k, v, ok := strings.Cut(kv, "="); ok {
				fields[k] = v
			}
		}
		if strings.Contains(fields["flags"], "b") {
			ids = append(ids, fields["id"])
		}
	}
	return ids
}

// killBlocked kills the one blocked client that is not the gate: the connection of the
// batch the server holds.
func (f *pipeFixture) killBlocked(t *testing.T) {
	t.Helper()
	var victims []string
	for _, id := range f.blockedIDs(t) {
		if id != f.gateID {
			victims = append(victims, id)
		}
	}
	if len(victims) != 1 {
		t.Fatalf("blocked clients besides the gate: %v, want one", victims)
	}
	if err := f.admin.Do(context.Background(), "CLIENT", "KILL", "ID", victims[0]).Err(); err != nil {
		t.Fatal(err)
	}
}

// 256 callers at once: each caller's ops run in its order and get their own replies; counts
// add up. Meant for the race detector (CI runs -race).
func TestPipeline256ConcurrentCallers(t *testing.T) {
	f := newPipeFixture(t)
	ctx := context.Background()
	const callers, rounds = 256, 20
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for i := range callers {
		wg.Go(func() {
			key := "k" + strconv.Itoa(i)
			for r := 1; r <= rounds; r++ {
				if err := f.st.KV.Set(ctx, key, r, 0); err != nil {
					errs <- err
					return
				}
				var got int
				if ok, err := f.st.KV.Get(ctx, key, &got); err != nil || !ok || got != r {
					errs <- fmt.Errorf("caller %d round %d read %d (%v %v): its own write must be visible", i, r, got, ok, err)
					return
				}
				if n, err := f.st.Counter.Increment(ctx, key); err != nil || n != int64(r) {
					errs <- fmt.Errorf("caller %d: INCR returned %d (%v), want %d", i, n, err, r)
					return
				}
				if _, err := f.st.Counter.Increment(ctx, "shared"); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n, err := f.admin.Get(ctx, "igniter:store:p:counter:shared").Int(); err != nil || n != callers*rounds {
		t.Fatalf("shared counter %d (%v), want %d", n, err, callers*rounds)
	}
}

// Batch.Set stays one MULTI/EXEC beside pipelined traffic: no Batch.Get sees half a batch.
func TestPipelineBatchSetStaysAtomic(t *testing.T) {
	f := newPipeFixture(t)
	assertBatchSetAtomic(t, f.st, []string{"a", "b", "c", "d"})
}

// assertBatchSetAtomic runs 4 writers of Batch.Set over keys (each write gives every key the
// same generation) beside 32 readers of Batch.Get, and fails if a reader sees two generations
// at once: half a MULTI/EXEC.
func assertBatchSetAtomic(t *testing.T, st *Store, keys []string) {
	t.Helper()
	ctx := context.Background()
	write := func(gen int) error {
		entries := make([]BatchEntry, len(keys))
		for i, k := range keys {
			entries[i] = BatchEntry{Key: k, Value: gen}
		}
		return st.Batch.Set(ctx, entries...)
	}
	if err := write(0); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 4 {
		wg.Go(func() {
			for g := range 50 {
				if err := write(w*1000 + g); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for range 32 {
		wg.Go(func() {
			for range 50 {
				items, err := st.Batch.Get(ctx, keys...)
				if err != nil {
					errs <- err
					return
				}
				for _, it := range items[1:] {
					if fmt.Sprint(it.Value) != fmt.Sprint(items[0].Value) {
						errs <- fmt.Errorf("Batch.Get saw half a Batch.Set: %v", items)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// The full-duplex mode (for high-RTT links) keeps replies and errors per op.
func TestPipelineFullDuplexOption(t *testing.T) {
	f := newPipeFixture(t, Pipelining(PipelineOptions{FullDuplex: true}))
	ctx := context.Background()
	if err := f.admin.LPush(ctx, "igniter:store:p:kv:list", "x").Err(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			key := "k" + strconv.Itoa(i)
			if err := f.st.KV.Set(ctx, key, i, 0); err != nil {
				t.Error(err)
			}
			var got int
			if ok, err := f.st.KV.Get(ctx, key, &got); err != nil || !ok || got != i {
				t.Errorf("%s: %d %v %v", key, got, ok, err)
			}
			if _, _, err := f.st.KV.GetRaw(ctx, "list"); !isReplyError(err, "WRONGTYPE") {
				t.Errorf("get of a list: %v", err)
			}
		})
	}
	wg.Wait()
}

// On a client without socket timeouts (ReadTimeout and WriteTimeout -1: the ctx deadline is the
// only bound) a batch the server never answers ends with the latest deadline of its callers: the
// callers return by theirs, the lane does not stay stuck behind the batch, and Close returns
// while the server is still frozen.
func TestPipelineFrozenServerWithoutSocketTimeouts(t *testing.T) {
	srv := redistest.StartFreezable(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, ContextTimeoutEnabled: true, ReadTimeout: -1, WriteTimeout: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	a := Redis(rdb).(*redisAdapter)
	st, err := New().WithService("p").WithAdapter(a).WithoutRetry().WithoutBreaker().Build()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := st.Counter.Increment(ctx, "n"); err != nil {
		t.Fatal(err)
	}
	srv.Freeze()
	t.Cleanup(srv.Thaw)

	const callers = 8
	errs := make(chan error, callers)
	for range callers {
		go func() {
			cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			defer cancel()
			_, err := st.Counter.Increment(cctx, "n")
			errs <- err
		}()
	}
	// The first goes direct, the others queue in the lane: all of them are in flight at once.
	waitFor(t, "the callers to be in flight", func() bool {
		_, n, _ := a.exec.PipelineState()
		return n == callers || len(errs) > 0
	})
	for range callers {
		if err := <-errs; !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("op on a frozen server: %v, want its deadline", err)
		}
	}
	// The batch of the queued ones ends too (its connection reaches the callers' deadline), so
	// the commands their callers abandoned are settled while the server is still frozen.
	waitFor(t, "the abandoned batch to end on the frozen server", func() bool { return a.exec.Abandoned() == 0 })
	closed := make(chan error, 1)
	go func() { closed <- st.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second): // a hang detector: Close returns at once when it works
		t.Fatal("Close did not return while the server stayed frozen: a batch nobody waits for held the lane")
	}
}
