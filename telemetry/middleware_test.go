package telemetry_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/telemetry"
)

// opCase is one operation of the spec §9 table: the Op and Result a store would build, and the
// attributes the original puts on its started and success events after the base attributes.
type opCase struct {
	op      ops.Op
	res     ops.Result
	started []string
	success []string // what success adds
}

func sec(n float64) time.Duration { return time.Duration(n * float64(time.Second)) }

// opCases covers every Kind of ops.Kinds().
var opCases = []opCase{
	{op: ops.Op{Kind: ops.KVGet}, res: ops.Result{}, success: []string{"ctx.kv.found=false"}},
	{op: ops.Op{Kind: ops.KVSet, TTL: sec(300)}, started: []string{"ctx.kv.ttl=300"}},
	{op: ops.Op{Kind: ops.KVRemove}},
	{op: ops.Op{Kind: ops.KVExists}, res: ops.Result{Bool: true, Int: 1}, success: []string{"ctx.kv.existed=true"}},
	{op: ops.Op{Kind: ops.KVExpire, TTL: sec(300)}, started: []string{"ctx.kv.ttl=300"}},
	{op: ops.Op{Kind: ops.KVTouch, TTL: sec(300)}, started: []string{"ctx.kv.ttl=300"}},
	{op: ops.Op{Kind: ops.CounterIncrement, N: 1}, res: ops.Result{Int: 7}, started: []string{"ctx.counter.delta=1"}, success: []string{"ctx.counter.value=7"}},
	{op: ops.Op{Kind: ops.CounterDecrement, N: -1}, res: ops.Result{Int: -1}, started: []string{"ctx.counter.delta=-1"}, success: []string{"ctx.counter.value=-1"}},
	{op: ops.Op{Kind: ops.CounterExpire, TTL: sec(300)}, started: []string{"ctx.counter.ttl=300"}},
	{op: ops.Op{Kind: ops.ClaimOnce, TTL: sec(30)}, res: ops.Result{Bool: true}, started: []string{"ctx.claim.ttl=30"}, success: []string{"ctx.claim.acquired=true"}},
	{op: ops.Op{Kind: ops.ClaimRelease}, res: ops.Result{Bool: true}, success: []string{"ctx.claim.released=true"}},
	{op: ops.Op{Kind: ops.LeaseAcquire, TTL: 1500 * time.Millisecond}, res: ops.Result{Bool: true, Int: 9}, started: []string{"ctx.lease.ttl=1.5"}, success: []string{"ctx.lease.acquired=true"}},
	{op: ops.Op{Kind: ops.LeaseExtend, TTL: sec(2)}, started: []string{"ctx.lease.ttl=2"}, success: []string{"ctx.lease.extended=false"}},
	{op: ops.Op{Kind: ops.LeaseRelease}, res: ops.Result{Bool: true}, success: []string{"ctx.lease.released=true"}},
	{op: ops.Op{Kind: ops.BatchGet, N: 2}, res: ops.Result{Values: [][]byte{nil, []byte(`1`)}}, started: []string{"ctx.batch.count=2"}, success: []string{"ctx.batch.found=1"}},
	{op: ops.Op{Kind: ops.BatchSet, N: 2}, started: []string{"ctx.batch.count=2"}},
	{op: ops.Op{Kind: ops.EventsPublish, Name: "user:created"}, res: ops.Result{Int: 1}, started: []string{"ctx.events.channel=user:created"}},
	{op: ops.Op{Kind: ops.EventsSubscribe, Name: "user:*"}, started: []string{"ctx.events.channel=user:*", "ctx.events.wildcard=true"}},
	{op: ops.Op{Kind: ops.EventsUnsubscribe, Name: "user:created"}, started: []string{"ctx.events.channel=user:created", "ctx.events.wildcard=false"}},
	{op: ops.Op{Kind: ops.StreamAppend, Name: "events", N: 100, HasN: true}, res: ops.Result{Strings: []string{"1-0"}}, started: []string{"ctx.stream.name=events", "ctx.stream.count=1"}},
	{op: ops.Op{Kind: ops.StreamRange, Name: "events"}, res: ops.Result{Entries: make([]ops.Entry, 3)}, started: []string{"ctx.stream.name=events"}, success: []string{"ctx.stream.count=3"}},
	{op: ops.Op{Kind: ops.StreamEnsure, Name: "events", Stream: &ops.StreamArgs{Group: "processors", Consumer: "worker-1", Start: "0"}},
		started: []string{"ctx.stream.name=events", "ctx.stream.group=processors", "ctx.stream.consumer=worker-1"}},
	{op: ops.Op{Kind: ops.StreamRead, Name: "events", Stream: &ops.StreamArgs{Group: "processors", Consumer: "worker-1"}},
		started: []string{"ctx.stream.name=events", "ctx.stream.group=processors", "ctx.stream.consumer=worker-1"}, success: []string{"ctx.stream.count=0"}},
	{op: ops.Op{Kind: ops.StreamAck, Name: "events", Stream: &ops.StreamArgs{Group: "processors", Consumer: "worker-1", IDs: []string{"1-0"}}}, res: ops.Result{Int: 1},
		started: []string{"ctx.stream.name=events", "ctx.stream.group=processors", "ctx.stream.consumer=worker-1", "ctx.stream.count=1"}},
	{op: ops.Op{Kind: ops.StreamClaim, Name: "events", Stream: &ops.StreamArgs{Group: "processors", Consumer: "worker-2", MinIdle: time.Minute}}, res: ops.Result{Entries: make([]ops.Entry, 2)},
		started: []string{"ctx.stream.name=events", "ctx.stream.group=processors", "ctx.stream.consumer=worker-2"}, success: []string{"ctx.stream.count=2"}},
	{op: ops.Op{Kind: ops.StreamPending, Name: "events", Stream: &ops.StreamArgs{Group: "processors"}}, res: ops.Result{Entries: make([]ops.Entry, 1)},
		started: []string{"ctx.stream.name=events", "ctx.stream.group=processors"}, success: []string{"ctx.stream.count=1"}},
	{op: ops.Op{Kind: ops.StreamRedrive, Name: "events"}, res: ops.Result{Int: 1, Bool: true}, started: []string{"ctx.stream.name=events"}, success: []string{"ctx.stream.count=1"}},
	{op: ops.Op{Kind: ops.DevScan, N: 10, Cursor: 5}, res: ops.Result{Strings: []string{"k"}}},
	{op: ops.Op{Kind: ops.KVSetIfAbsent, TTL: sec(30)}, res: ops.Result{Bool: true}, started: []string{"ctx.kv.ttl=30"}},
	{op: ops.Op{Kind: ops.CounterGCRA, N: 1}, res: ops.Result{Bool: true, Rate: &ops.RateReply{Allowed: 1}}},
	{op: ops.Op{Kind: ops.StorePing}},
}

// scoped fills in the identity a scoped store gives every Op (two scopes deep).
func scoped(op ops.Op) ops.Op {
	op.Service, op.ScopeKey, op.ScopeDepth = "test-api", "workspace", 2
	op.Key = "igniter:store:test-api:organization:org_1:workspace:ws_1:" + op.Kind.Namespace() + ":k"
	return op
}

func base(k ops.Kind) []string {
	return []string{"ctx.store.service=test-api", "ctx.store.namespace=" + k.Group(),
		"ctx.store.scope_key=workspace", "ctx.store.scope_depth=2"}
}

func strs(attrs []slog.Attr) []string {
	out := make([]string, len(attrs))
	for i, a := range attrs {
		out[i] = a.String()
	}
	return out
}

// run drives the middleware with one Op whose next returns res, err.
func run(t *testing.T, op ops.Op, res ops.Result, err error) []telemetry.Event {
	t.Helper()
	rec := telemetry.NewRecorder()
	h := telemetry.New(rec)(func(context.Context, ops.Op) (ops.Result, error) { return res, err })
	gotRes, gotErr := h(context.Background(), op)
	if !errors.Is(gotErr, err) && gotErr != err {
		t.Fatalf("the middleware changed the error: %v", gotErr)
	}
	if err == nil && gotRes.Int != res.Int {
		t.Fatalf("the middleware changed the result")
	}
	return rec.Events()
}

type want struct {
	name  string
	level slog.Level
	attrs []string
}

func check(t *testing.T, got []telemetry.Event, wants ...want) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("got %d events %v, want %d", len(got), names(got), len(wants))
	}
	for i, w := range wants {
		g := got[i]
		if g.Name != w.name || g.Level != w.level {
			t.Errorf("event %d = %s (%v), want %s (%v)", i, g.Name, g.Level, w.name, w.level)
		}
		if !slices.Equal(strs(g.Attrs), w.attrs) {
			t.Errorf("%s attributes\n got %q\nwant %q", w.name, strs(g.Attrs), w.attrs)
		}
	}
}

func names(evs []telemetry.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Name
	}
	return out
}

func cat(parts ...[]string) []string { return slices.Concat(parts...) }

func TestEveryKindHasACase(t *testing.T) {
	for _, k := range ops.Kinds() {
		if !slices.ContainsFunc(opCases, func(c opCase) bool { return c.op.Kind == k }) {
			t.Errorf("no telemetry case for %v", k)
		}
	}
}

func TestSuccessEventsCarryTheSpecAttributes(t *testing.T) {
	for _, c := range opCases {
		t.Run(c.op.Kind.Operation(), func(t *testing.T) {
			k := c.op.Kind
			prefix := "igniter.store." + k.Group() + "." + k.Event()
			started := cat(base(k), c.started)
			check(t, run(t, scoped(c.op), c.res, nil),
				want{prefix + ".started", slog.LevelDebug, started},
				want{prefix + ".success", slog.LevelDebug, cat(started, c.success)})
		})
	}
}

// errorCases are one error of each category, plus a foreign error, as the chain may return them.
func errorCases(k ops.Kind) []struct {
	name  string
	err   error
	attrs []string
} {
	op := k.Operation()
	failed := string(ops.FailedCode(k))
	return []struct {
		name  string
		err   error
		attrs []string
	}{
		{"invalid", ops.Invalid(ops.CodeKeyRequired, op, "Key is required", nil),
			[]string{"ctx.error.code=STORE_KEY_REQUIRED", "ctx.error.message=Key is required"}},
		{"unavailable", ops.Failure(k, ops.ErrUnavailable, io.ErrUnexpectedEOF),
			[]string{"ctx.error.code=STORE_CONNECTION_FAILED", "ctx.error.message=" + op + " failed"}},
		{"failed", ops.Failure(k, ops.ErrFailed, errors.New("WRONGTYPE Operation against a key holding the wrong kind of value")),
			[]string{"ctx.error.code=" + failed, "ctx.error.message=" + op + " failed"}},
		{"canceled", ops.Failure(k, nil, context.Canceled),
			[]string{"ctx.error.code=STORE_CANCELED", "ctx.error.message=operation canceled"}},
		{"timeout", ops.Failure(k, nil, context.DeadlineExceeded),
			[]string{"ctx.error.code=STORE_TIMEOUT", "ctx.error.message=operation deadline exceeded"}},
		{"rejected", ops.NewError(ops.CodeCircuitOpen, op, "circuit breaker is open", nil),
			[]string{"ctx.error.code=STORE_CIRCUIT_OPEN", "ctx.error.message=circuit breaker is open"}},
		{"conflict", ops.NewError(ops.CodeLeaseNotAcquired, op, "lease held by another owner", nil),
			[]string{"ctx.error.code=STORE_LEASE_NOT_ACQUIRED", "ctx.error.message=lease held by another owner"}},
		{"not_found", ops.NewError(ops.CodeSchemaChannelNotFound, op, "no schema", nil),
			[]string{"ctx.error.code=STORE_SCHEMA_CHANNEL_NOT_FOUND", "ctx.error.message=no schema"}},
		{"wrapped", fmt.Errorf("wrapped: %w", ops.NewError(ops.CodeSerializationFailed, op, "Value cannot be serialized to JSON", errors.New("json: unsupported"))),
			[]string{"ctx.error.code=STORE_SERIALIZATION_FAILED", "ctx.error.message=Value cannot be serialized to JSON"}},
		{"foreign", errors.New("a foreign error whose text is not emitted"),
			[]string{"ctx.error.code=*errors.errorString"}},
	}
}

// errorLevelOf is the level of the error event of each error case: answers (a conflict, a
// miss) are not failures and are logged at info; everything else at error.
func errorLevelOf(name string) slog.Level {
	if name == "conflict" || name == "not_found" {
		return slog.LevelInfo
	}
	return slog.LevelError
}

func TestErrorEventsCarryStartedAndErrorAttributes(t *testing.T) {
	for _, c := range opCases {
		k := c.op.Kind
		prefix := "igniter.store." + k.Group() + "." + k.Event()
		started := cat(base(k), c.started)
		for _, e := range errorCases(k) {
			t.Run(k.Operation()+"/"+e.name, func(t *testing.T) {
				check(t, run(t, scoped(c.op), ops.Result{}, e.err),
					want{prefix + ".started", slog.LevelDebug, started},
					want{prefix + ".error", errorLevelOf(e.name), cat(started, []string{"ctx.error.operation=" + k.Operation()}, e.attrs)})
			})
		}
	}
}

func TestUnscopedEventsHaveNoScopeAttributes(t *testing.T) {
	evs := run(t, ops.Op{Kind: ops.KVSet, Service: "svc", Key: "igniter:store:svc:kv:k"}, ops.Result{}, nil)
	check(t, evs,
		want{"igniter.store.kv.set.started", slog.LevelDebug, []string{"ctx.store.service=svc", "ctx.store.namespace=kv"}},
		want{"igniter.store.kv.set.success", slog.LevelDebug, []string{"ctx.store.service=svc", "ctx.store.namespace=kv"}})
}

func TestEmittedKeysAreInTheCatalog(t *testing.T) {
	listed := map[string][]string{}
	for _, s := range telemetry.Catalog() {
		listed[s.Name] = s.Attributes
	}
	baseKeys := []string{telemetry.AttrService, telemetry.AttrNamespace, telemetry.AttrScopeKey, telemetry.AttrScopeDepth}
	for _, c := range opCases {
		evs := run(t, scoped(c.op), c.res, nil)
		evs = append(evs, run(t, scoped(c.op), c.res, ops.Failure(c.op.Kind, ops.ErrFailed, io.EOF))...)
		for _, e := range evs {
			keys, ok := listed[e.Name]
			if !ok {
				t.Fatalf("%s is not in the catalog", e.Name)
			}
			for _, a := range e.Attrs {
				if !slices.Contains(baseKeys, a.Key) && !slices.Contains(keys, a.Key) {
					t.Errorf("%s carries %s, which its catalog entry does not list", e.Name, a.Key)
				}
			}
		}
	}
}

// levelSink wants only levels at or above min.
type levelSink struct {
	min slog.Level
	*telemetry.Recorder
}

func (s levelSink) Enabled(_ context.Context, l slog.Level) bool { return l >= s.min }

func TestDisabledLevelsBuildNothing(t *testing.T) {
	s := levelSink{slog.LevelInfo, telemetry.NewRecorder()}
	h := telemetry.New(s)(func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{}, nil })
	_, _ = h(context.Background(), scoped(ops.Op{Kind: ops.KVGet}))
	if n := len(s.Events()); n != 0 {
		t.Fatalf("a sink at info got %d debug events", n)
	}
	fail := telemetry.New(s)(func(context.Context, ops.Op) (ops.Result, error) {
		return ops.Result{}, ops.Failure(ops.KVGet, ops.ErrUnavailable, io.EOF)
	})
	_, _ = fail(context.Background(), scoped(ops.Op{Kind: ops.KVGet}))
	check(t, s.Events(), want{"igniter.store.kv.get.error", slog.LevelError,
		cat(base(ops.KVGet), []string{"ctx.error.operation=kv.get", "ctx.error.code=STORE_CONNECTION_FAILED", "ctx.error.message=kv.get failed"})})
}
