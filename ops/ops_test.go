package ops_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/igniter-go/store/ops"
)

func TestOriginalCodesAreTheOriginals45(t *testing.T) {
	codes := ops.OriginalCodes()
	if len(codes) != 45 {
		t.Fatalf("got %d codes, want 45", len(codes))
	}
	seen := map[ops.Code]bool{}
	for _, c := range codes {
		if !strings.HasPrefix(string(c), "STORE_") || seen[c] {
			t.Errorf("bad or duplicate code %q", c)
		}
		seen[c] = true
	}
}

func TestErrorMatchesCategoryCodeAndCauseThroughWrappers(t *testing.T) {
	cause := context.DeadlineExceeded
	err := fmt.Errorf("outer: %w", fmt.Errorf("inner: %w", ops.Failure(ops.KVSet, ops.ErrUnavailable, cause)))
	if !errors.Is(err, ops.ErrCanceled) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("category or cause lost: %v", err)
	}
	if ops.CodeOf(err) != ops.CodeTimeout {
		t.Fatalf("code = %s", ops.CodeOf(err))
	}
	if !errors.Is(err, &ops.Error{Code: ops.CodeTimeout}) || errors.Is(err, &ops.Error{Code: ops.CodeSetFailed}) {
		t.Fatal("code matching through errors.Is is wrong")
	}
	var e *ops.Error
	if !errors.As(err, &e) || e.Operation != "kv.set" {
		t.Fatalf("errors.As: %+v", e)
	}
}

func TestFailureCodes(t *testing.T) {
	reply := errors.New("WRONGTYPE")
	for _, tc := range []struct {
		kind     ops.Kind
		category error
		code     ops.Code
		outcome  string
	}{
		{ops.KVGet, ops.ErrFailed, ops.CodeGetFailed, "error"},
		{ops.KVSet, ops.ErrUnavailable, ops.CodeConnectionFailed, "unavailable"},
		{ops.CounterIncrement, ops.ErrFailed, ops.CodeIncrementFailed, "error"},
		{ops.StreamEnsure, ops.ErrFailed, ops.CodeStreamGroupCreateFailed, "error"},
		{ops.DevScan, ops.ErrFailed, ops.CodeScanFailed, "error"},
		{ops.BatchSet, ops.ErrFailed, ops.CodeBatchFailed, "error"},
	} {
		err := ops.Failure(tc.kind, tc.category, reply)
		if err.Code != tc.code || ops.Outcome(err) != tc.outcome || !errors.Is(err, reply) {
			t.Errorf("%v: got %s/%s", tc.kind, err.Code, ops.Outcome(err))
		}
	}
}

func TestEveryKindHasNames(t *testing.T) {
	for _, k := range ops.Kinds() {
		if k.Group() == "" || k.Event() == "" || k.Command() == "" || k.Namespace() == "" && k != ops.StorePing ||
			!strings.HasPrefix(k.Operation(), k.Group()+".") && k.Group() != "lease" {
			t.Errorf("kind %d has incomplete names: %+v", k, k)
		}
	}
	if ops.Kind(250).Operation() != "unknown" {
		t.Error("out-of-range kind must be unknown")
	}
}

func TestOutcome(t *testing.T) {
	for err, want := range map[error]string{
		nil: "ok",
		ops.Invalid(ops.CodeKeyRequired, "kv.get", "Key is required", nil): "invalid",
		ops.NewError(ops.CodeCircuitOpen, "kv.get", "open", nil):           "rejected",
		ops.NewError(ops.CodeLeaseLost, "lease.extend", "lost", nil):       "conflict",
		context.Canceled: "canceled",
		errors.New("x"):  "error",
	} {
		if got := ops.Outcome(err); got != want {
			t.Errorf("Outcome(%v) = %s, want %s", err, got, want)
		}
	}
}

func passThrough(next ops.Handler) ops.Handler {
	return func(ctx context.Context, op ops.Op) (ops.Result, error) { return next(ctx, op) }
}

func BenchmarkChainFivePassThrough(b *testing.B) {
	exec := func(ctx context.Context, op ops.Op) (ops.Result, error) { return ops.Result{Int: 1}, nil }
	h := ops.Chain(passThrough, passThrough, passThrough, passThrough, passThrough)(exec)
	ctx := context.Background()
	op := ops.Op{Kind: ops.KVGet, Key: "igniter:store:api:kv:k", Service: "api"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h(ctx, op); err != nil {
			b.Fatal(err)
		}
	}
}

// Outcome's direct path for an *Error gives what errors.Is gives through the chain, and does not
// allocate.
func TestOutcomeOfAnErrorIsErrorsIsWithoutAllocating(t *testing.T) {
	errs := []error{
		ops.Invalid(ops.CodeKeyRequired, "kv.get", "Key is required", nil),
		ops.Failure(ops.KVGet, ops.ErrUnavailable, io.EOF),
		ops.Failure(ops.KVGet, ops.ErrFailed, errors.New("WRONGTYPE")),
		ops.Failure(ops.KVGet, nil, context.Canceled),
		ops.Failure(ops.KVGet, nil, context.DeadlineExceeded),
		ops.NewError(ops.CodeCircuitOpen, "kv.get", "open", nil),
		ops.NewError(ops.CodeLeaseLost, "lease.extend", "lost", nil),
		ops.NewError(ops.CodeSchemaChannelNotFound, "events.publish", "none", nil),
		&ops.Error{Code: "X"},
		&ops.Error{Code: "X", Category: ops.ErrFailed, Err: ops.Invalid(ops.CodeTTLInvalid, "", "", nil)},
		&ops.Error{Code: "X", Category: ops.ErrUnavailable, Err: fmt.Errorf("%w", ops.ErrInvalid)},
		&ops.Error{Code: "X", Category: ops.ErrFailed, Err: context.Canceled},
	}
	for i, err := range errs {
		// The same error behind a wrapper takes the errors.Is path.
		if got, want := ops.Outcome(err), ops.Outcome(fmt.Errorf("w: %w", err)); got != want {
			t.Errorf("%d %v: direct %s, through errors.Is %s", i, err, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = ops.Outcome(errs[1]) }); n != 0 {
		t.Fatalf("Outcome of an *ops.Error allocates %v times", n)
	}
}

func TestRecoverTurnsAPanicIntoACodedError(t *testing.T) {
	cause := errors.New("boom")
	err := ops.Recover("test.callback", func() { panic(cause) })
	if !ops.HasCode(err, ops.CodeCallbackPanic) {
		t.Fatalf("code = %q, want STORE_CALLBACK_PANIC (err %v)", ops.CodeOf(err), err)
	}
	if !errors.Is(err, cause) || !errors.Is(err, ops.ErrFailed) {
		t.Fatalf("err %v does not wrap the panic value and its category", err)
	}
	var pv *ops.PanicValue
	if !errors.As(err, &pv) || len(pv.Stack) == 0 {
		t.Fatalf("err %v carries no stack", err)
	}
	if err := ops.Recover("test.callback", func() {}); err != nil {
		t.Fatalf("no panic: err = %v", err)
	}
}

// TestRepeatableKinds: a kind that changes Redis again or answers for its first run when run
// twice is not Repeatable, so a caller's retry opt-in cannot reach it; every read-only kind is.
func TestRepeatableKinds(t *testing.T) {
	for _, k := range []ops.Kind{
		ops.CounterIncrement, ops.CounterDecrement, ops.CounterGCRA, ops.ClaimOnce, ops.ClaimRelease,
		ops.LeaseAcquire, ops.LeaseRelease, ops.KVSetIfAbsent, ops.EventsPublish, ops.StreamAppend,
		ops.StreamRead,
	} {
		if k.Repeatable() {
			t.Errorf("%s is Repeatable, want not: a second run changes Redis again or answers for the first", k)
		}
	}
	for _, k := range []ops.Kind{ops.KVSet, ops.KVExpire, ops.KVRemove, ops.BatchSet, ops.CounterExpire} {
		if !k.Repeatable() {
			t.Errorf("%s is not Repeatable, want Repeatable (a caller may opt it in)", k)
		}
	}
	for k := ops.Kind(0); k < 255; k++ {
		if k.ReadOnly() && !k.Repeatable() {
			t.Errorf("%s is read-only but not Repeatable", k)
		}
	}
}
