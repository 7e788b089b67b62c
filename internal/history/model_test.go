package history_test

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/igniter-go/store/internal/history"
	"github.com/igniter-go/store/ops"
)

// op builds one operation of a hand-written history; output nil is an unknown outcome.
func op(id, client int, call, ret int64, in, out any) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Input: in, Output: out, Call: call, Return: ret, Metadata: id}
}

func set(k, v string) history.KVInput { return history.KVInput{Op: history.KVSet, Key: k, Value: v} }
func get(k string) history.KVInput    { return history.KVInput{Op: history.KVGet, Key: k} }
func found(v string) history.KVOutput { return history.KVOutput{Value: v, Found: true} }

func TestHistoryModelKVRegister(t *testing.T) {
	ok := history.KVOutput{}
	tests := []struct {
		name  string
		ops   []porcupine.Operation
		legal bool
		names string // the record IDs the report must print, when illegal
	}{
		{"concurrent set and get may see either value", []porcupine.Operation{
			op(0, 0, 0, 10, set("a", "1"), ok),
			op(1, 1, 20, 40, set("a", "2"), ok),
			op(2, 2, 25, 30, get("a"), found("1")),
			op(3, 2, 45, 50, get("a"), found("2")),
		}, true, ""},
		{"a read after an acknowledged write sees it", []porcupine.Operation{
			op(0, 0, 0, 10, set("a", "1"), ok),
			op(1, 1, 20, 30, set("a", "2"), ok),
			op(2, 2, 40, 50, get("a"), found("1")),
		}, false, "#2"},
		{"a deleted key is absent", []porcupine.Operation{
			op(0, 0, 0, 10, set("a", "1"), ok),
			op(1, 0, 20, 30, history.KVInput{Op: history.KVDel, Key: "a"}, ok),
			op(2, 1, 40, 50, get("a"), found("1")),
		}, false, "#2"},
		{"a write of unknown outcome may show up late", []porcupine.Operation{
			op(0, 0, 0, 10, set("a", "1"), ok),
			op(1, 1, 20, 1000, set("a", "2"), nil),
			op(2, 2, 40, 50, get("a"), found("1")),
			op(3, 2, 60, 70, get("a"), found("2")),
		}, true, ""},
		{"keys are independent", []porcupine.Operation{
			op(0, 0, 0, 10, set("a", "1"), ok),
			op(1, 1, 20, 30, get("b"), history.KVOutput{}),
		}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := history.Check("kv", history.KVModel, tt.ops, 0)
			if legal := res.Verdict == porcupine.Ok; legal != tt.legal {
				t.Fatalf("verdict %s, want legal=%v\n%s", res.Verdict, tt.legal, res.Report)
			}
			if !tt.legal && !strings.Contains(res.Report, "cannot be placed next (state \"2\"):\n    "+tt.names) &&
				!strings.Contains(res.Report, "cannot be placed next (state (absent)):\n    "+tt.names) {
				t.Fatalf("the report does not name %s as the offending operation:\n%s", tt.names, res.Report)
			}
			t.Logf("\n%s", res.Report)
		})
	}
}

func add(k string, d int64) history.CounterInput { return history.CounterInput{Key: k, Delta: d} }
func val(v int64) history.CounterOutput          { return history.CounterOutput{Value: v} }

func TestHistoryModelCounter(t *testing.T) {
	read := history.CounterInput{Key: "n", Get: true}
	tests := []struct {
		name  string
		ops   []porcupine.Operation
		legal bool
		stuck string // the operation the report must name, when illegal
	}{
		{"concurrent adds in either order", []porcupine.Operation{
			op(0, 0, 0, 10, add("n", 1), val(2)),
			op(1, 1, 0, 10, add("n", 1), val(1)),
			op(2, 0, 20, 30, read, val(2)),
		}, true, ""},
		{"an add applied twice", []porcupine.Operation{
			op(0, 0, 0, 10, add("n", 1), val(1)),
			op(1, 0, 20, 30, add("n", 1), val(3)),
			op(2, 1, 40, 50, read, val(3)),
		}, false, `#1 client 0 [20ns, 30ns] add("n", 1) -> 3`},
		{"an add of unknown outcome that was applied", []porcupine.Operation{
			op(0, 0, 0, 10, add("n", 1), val(1)),
			op(1, 1, 20, 1000, add("n", 1), nil),
			op(2, 0, 40, 50, add("n", 1), val(3)),
		}, true, ""},
		{"an add of unknown outcome that was not", []porcupine.Operation{
			op(0, 0, 0, 10, add("n", 1), val(1)),
			op(1, 1, 20, 1000, add("n", 1), nil),
			op(2, 0, 40, 50, add("n", 1), val(2)),
		}, true, ""},
		{"an add reported failed that was applied", []porcupine.Operation{
			op(0, 0, 0, 10, add("n", 1), val(1)),
			// a failed add is left out of the history: nothing can explain the 3
			op(2, 0, 40, 50, add("n", 1), val(3)),
		}, false, `#2 client 0 [40ns, 50ns] add("n", 1) -> 3`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := history.Check("counter", history.CounterModel, tt.ops, 0)
			if legal := res.Verdict == porcupine.Ok; legal != tt.legal {
				t.Fatalf("verdict %s, want legal=%v\n%s", res.Verdict, tt.legal, res.Report)
			}
			if !tt.legal && !strings.Contains(res.Report, "cannot be placed next (state 1):\n    "+tt.stuck) {
				t.Fatalf("the report does not print the offending add:\n%s", res.Report)
			}
		})
	}
}

// The recorder turns errors into outcomes: failed operations leave the history, unknown ones
// lose their output and return after everything else, unknown reads leave it too.
func TestHistoryRecorderOutcomes(t *testing.T) {
	rec := history.NewRecorder()
	rec.Call(0, add("n", 1)).Return(val(1), nil)
	rec.Call(0, add("n", 1)).Return(nil, ops.NewError(ops.CodeConnectionFailed, "counter.increment", "", nil))
	rec.Call(0, add("n", 1)).Return(nil, ops.NewError(ops.CodeOutcomeUnknown, "counter.increment", "", nil))
	rec.Call(1, history.CounterInput{Key: "n", Get: true}).Return(nil, io.EOF)
	pending := rec.Call(1, add("n", 5)) // never returns: in flight at the end
	_ = pending
	h, st := rec.History(nil)
	if st != (history.Stats{OK: 1, Failed: 1, Unknown: 3}) {
		t.Fatalf("stats %+v", st)
	}
	if len(h) != 3 {
		t.Fatalf("history has %d operations, want 3 (the ok add and the two maybe-applied adds): %+v", len(h), h)
	}
	for _, o := range h[1:] {
		if o.Output != nil || o.Return <= h[0].Return || o.Return <= o.Call {
			t.Fatalf("unknown operation %+v: want nil output and a return after everything", o)
		}
	}
}

func TestHistoryClassify(t *testing.T) {
	coded := func(c ops.Code) error { return ops.NewError(c, "op", "", nil) }
	tests := []struct {
		err  error
		want history.Outcome
	}{
		{nil, history.OK},
		{coded(ops.CodeOutcomeUnknown), history.Unknown},
		{coded(ops.CodeTimeout), history.Unknown},
		{coded(ops.CodeCanceled), history.Unknown},
		{coded(ops.CodeConnectionFailed), history.Failed},
		{coded(ops.CodeCircuitOpen), history.Failed},
		{coded(ops.CodeClosed), history.Failed},
		{coded(ops.CodeKeyRequired), history.Failed},
		{coded(ops.CodeIncrementFailed), history.Failed},
		{ops.NewError(ops.CodeRetryBudgetExhausted, "op", "", coded(ops.CodeOutcomeUnknown)), history.Unknown},
		{ops.NewError(ops.CodeRetryBudgetExhausted, "op", "", coded(ops.CodeConnectionFailed)), history.Failed},
		{fmt.Errorf("wrapped: %w", coded(ops.CodeOutcomeUnknown)), history.Unknown},
		{io.EOF, history.Unknown},
		{errors.New("anything"), history.Unknown},
	}
	for _, tt := range tests {
		if got := history.Classify(tt.err); got != tt.want {
			t.Errorf("Classify(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
}

func acquire(client int) history.LeaseInput {
	return history.LeaseInput{Op: history.LeaseAcquire, Key: "job", Client: client, TTL: time.Hour}
}

func release(client int, fence int64) history.LeaseInput {
	return history.LeaseInput{Op: history.LeaseRelease, Key: "job", Client: client, TTL: time.Hour, Fence: fence}
}

func TestHistoryModelLease(t *testing.T) {
	got := func(f int64) history.LeaseOutput { return history.LeaseOutput{Ok: true, Fence: f} }
	no := history.LeaseOutput{}
	done := history.LeaseOutput{Ok: true}
	// Times are in ns, far below the hour of TTL: expiry is tested below.
	tests := []struct {
		name  string
		ops   []porcupine.Operation
		legal bool
	}{
		{"take, release, take", []porcupine.Operation{
			op(0, 0, 0, 10, acquire(0), got(1)),
			op(1, 1, 20, 30, acquire(1), no),
			op(2, 0, 40, 50, release(0, 1), done),
			op(3, 1, 60, 70, acquire(1), got(2)),
		}, true},
		{"two holders at once", []porcupine.Operation{
			op(0, 0, 0, 10, acquire(0), got(1)),
			op(1, 1, 20, 30, acquire(1), got(2)),
		}, false},
		{"fences go backwards", []porcupine.Operation{
			op(0, 0, 0, 10, acquire(0), got(5)),
			op(1, 0, 20, 30, release(0, 5), done),
			op(2, 1, 40, 50, acquire(1), got(5)),
		}, false},
		{"not acquired while free", []porcupine.Operation{
			op(0, 0, 0, 10, acquire(0), no),
		}, false},
		{"an acquisition of unknown outcome may hold the lease", []porcupine.Operation{
			op(0, 0, 0, 1000, acquire(0), nil),
			op(1, 1, 20, 30, acquire(1), no),
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range tt.ops {
				in := tt.ops[i].Input.(history.LeaseInput)
				tt.ops[i].Input = in.WithTimes(tt.ops[i].Call, tt.ops[i].Return)
			}
			res := history.Check("lease", history.LeaseModel, tt.ops, 0)
			if legal := res.Verdict == porcupine.Ok; legal != tt.legal {
				t.Fatalf("verdict %s, want legal=%v\n%s", res.Verdict, tt.legal, res.Report)
			}
		})
	}
}

// A lease expires: after its TTL (plus the slack) another client may take it, and its holder's
// release then finds it lost; before that neither may happen.
func TestHistoryModelLeaseExpiry(t *testing.T) {
	ttl := int64(time.Second)
	in := func(o history.LeaseInput, call, ret int64) porcupine.Operation {
		o.TTL = time.Second
		return op(int(call), o.Client, call, ret, o.WithTimes(call, ret), nil)
	}
	with := func(o porcupine.Operation, out history.LeaseOutput) porcupine.Operation { o.Output = out; return o }
	ms := int64(time.Millisecond)
	tests := []struct {
		name  string
		ops   []porcupine.Operation
		legal bool
	}{
		{"taken after expiry", []porcupine.Operation{
			with(in(acquire(0), 0, ms), history.LeaseOutput{Ok: true, Fence: 1}),
			with(in(acquire(1), ttl+2*ms, ttl+3*ms), history.LeaseOutput{Ok: true, Fence: 2}),
			with(in(release(0, 1), ttl+4*ms, ttl+5*ms), history.LeaseOutput{}),
		}, true},
		{"taken before expiry", []porcupine.Operation{
			with(in(acquire(0), 0, ms), history.LeaseOutput{Ok: true, Fence: 1}),
			with(in(acquire(1), ttl/2, ttl/2+ms), history.LeaseOutput{Ok: true, Fence: 2}),
		}, false},
		{"released after another took it", []porcupine.Operation{
			with(in(acquire(0), 0, ms), history.LeaseOutput{Ok: true, Fence: 1}),
			with(in(acquire(1), ttl+2*ms, ttl+3*ms), history.LeaseOutput{Ok: true, Fence: 2}),
			with(in(release(0, 1), ttl+4*ms, ttl+5*ms), history.LeaseOutput{Ok: true}),
		}, false},
		{"not acquired long after expiry", []porcupine.Operation{
			with(in(acquire(0), 0, ms), history.LeaseOutput{Ok: true, Fence: 1}),
			with(in(acquire(1), 2*ttl, 2*ttl+ms), history.LeaseOutput{}),
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := history.Check("lease", history.LeaseModel, tt.ops, 0)
			if legal := res.Verdict == porcupine.Ok; legal != tt.legal {
				t.Fatalf("verdict %s, want legal=%v\n%s", res.Verdict, tt.legal, res.Report)
			}
		})
	}
}
