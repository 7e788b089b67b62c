package retry_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/igniter-go/store/middleware/retry"
	"github.com/igniter-go/store/ops"
)

// script is a handler that returns its errors in order, then successes, and counts the calls.
type script struct {
	errs  []error
	calls int
}

func (s *script) handle(context.Context, ops.Op) (ops.Result, error) {
	s.calls++
	if s.calls <= len(s.errs) {
		return ops.Result{}, s.errs[s.calls-1]
	}
	return ops.Result{Int: int64(s.calls)}, nil
}

var (
	read  = ops.Op{Kind: ops.KVGet, Idempotent: true}
	incr  = ops.Op{Kind: ops.CounterIncrement}
	kvSet = ops.Op{Kind: ops.KVSet}
	// claimOnce retried after a lost reply would find the caller's own claim and answer "not
	// acquired" (the G23 review's TestReviewG23ClaimOnceIdempotentRetry).
	claimOnce = ops.Op{Kind: ops.ClaimOnce}
	publish   = ops.Op{Kind: ops.EventsPublish}
	down      = ops.Failure(ops.KVGet, ops.ErrUnavailable, io.EOF)
	replyErr  = ops.Failure(ops.KVGet, ops.ErrFailed, errors.New("WRONGTYPE"))
	invalid   = ops.Invalid(ops.CodeKeyRequired, "kv.get", "Key is required", nil)
	open      = ops.NewError(ops.CodeCircuitOpen, "kv.get", "open", nil)
	timedOut  = ops.Failure(ops.KVGet, ops.ErrUnavailable, context.DeadlineExceeded)
	canceled  = ops.Failure(ops.KVGet, ops.ErrUnavailable, context.Canceled)
)

func errs(n int, err error) []error {
	out := make([]error, n)
	for i := range out {
		out[i] = err
	}
	return out
}

func TestAttemptsCountedExactly(t *testing.T) {
	for _, tc := range []struct {
		name      string
		max       int
		failures  int
		wantCalls int
		wantErr   bool
	}{
		{"zero value is the default, 3 attempts", 0, 5, 3, true},
		{"negative is no retry", -1, 5, 1, true},
		{"one attempt is no retry", 1, 5, 1, true},
		{"success first", 3, 0, 1, false},
		{"success on the last attempt", 3, 2, 3, false},
		{"attempts exhausted", 3, 5, 3, true},
		{"max 5", 5, 10, 5, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &script{errs: errs(tc.failures, down)}
			var retries []int
			p := retry.Policy{MaxAttempts: tc.max, Backoff: retry.NoBackoff, OnRetry: func(_ context.Context, a retry.Attempt) {
				retries = append(retries, a.Number)
			}}
			res, err := retry.New(p)(s.handle)(context.Background(), read)
			if s.calls != tc.wantCalls {
				t.Fatalf("calls = %d, want %d", s.calls, tc.wantCalls)
			}
			if len(retries) != tc.wantCalls-1 {
				t.Fatalf("OnRetry called %d times, want %d", len(retries), tc.wantCalls-1)
			}
			for i, n := range retries {
				if n != i+1 {
					t.Fatalf("OnRetry attempt numbers %v", retries)
				}
			}
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err != nil && !errors.Is(err, ops.ErrUnavailable) {
				t.Fatalf("the last attempt's error must stand: %v", err)
			}
			if err == nil && res.Int != int64(tc.wantCalls) {
				t.Fatalf("result of the wrong attempt: %+v", res)
			}
		})
	}
}

func TestOnlyUnavailableErrorsOfIdempotentOpsAreRetried(t *testing.T) {
	for _, tc := range []struct {
		name      string
		op        ops.Op
		ctx       context.Context
		err       error
		wantCalls int
	}{
		{"read, unavailable", read, context.Background(), down, 3},
		{"write never retried", incr, context.Background(), down, 1},
		{"write opted in per call", kvSet, retry.Idempotent(context.Background()), down, 3},
		{"the opt-in does not reach an increment", incr, retry.Idempotent(context.Background()), down, 1},
		{"the opt-in does not reach a claim", claimOnce, retry.Idempotent(context.Background()), down, 1},
		{"the opt-in does not reach a publish", publish, retry.Idempotent(context.Background()), down, 1},
		{"redis error reply", read, context.Background(), replyErr, 1},
		{"invalid input", read, context.Background(), invalid, 1},
		{"open breaker", read, context.Background(), open, 1},
		{"deadline", read, context.Background(), timedOut, 1},
		{"canceled", read, context.Background(), canceled, 1},
		{"wrapped unavailable", read, context.Background(), fmt.Errorf("x: %w", down), 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &script{errs: errs(10, tc.err)}
			_, err := retry.New(retry.Policy{MaxAttempts: 3, Backoff: retry.NoBackoff})(s.handle)(tc.ctx, tc.op)
			if s.calls != tc.wantCalls {
				t.Fatalf("calls = %d, want %d", s.calls, tc.wantCalls)
			}
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
		})
	}
}

func TestDoneContextStopsRetries(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := &script{errs: errs(10, down)}
	h := func(ctx context.Context, op ops.Op) (ops.Result, error) {
		if s.calls == 1 {
			cancel() // the caller gives up while the first attempt runs
		}
		return s.handle(ctx, op)
	}
	_, err := retry.New(retry.Policy{MaxAttempts: 5, Backoff: retry.NoBackoff})(h)(ctx, read)
	if s.calls != 2 || !errors.Is(err, ops.ErrUnavailable) {
		t.Fatalf("calls = %d, err = %v", s.calls, err)
	}
}

func TestBackoffWatchesContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &script{errs: errs(10, down)}
	p := retry.Policy{
		MaxAttempts: 3,
		Backoff:     retry.Constant(time.Hour),
		OnRetry:     func(context.Context, retry.Attempt) { cancel() }, // cancel as the wait starts
	}
	_, err := retry.New(p)(s.handle)(ctx, read)
	if s.calls != 1 || !errors.Is(err, ops.ErrUnavailable) {
		t.Fatalf("an hour's backoff must end with ctx: calls = %d, err = %v", s.calls, err)
	}
}

func TestBudgetRespected(t *testing.T) {
	// Burst 2, 10%: two retries at once, then one per ten requests.
	b := retry.NewBudget(0.1, 2)
	var exhausted int
	p := retry.Policy{MaxAttempts: 3, Backoff: retry.NoBackoff, Budget: b, OnBudgetExhausted: func(context.Context, retry.Attempt) { exhausted++ }}
	s := &script{errs: errs(1000, down)}
	mw := retry.New(p)(s.handle)
	_, err := mw(context.Background(), read)
	// The deposit of this request fills nothing (the bucket starts full); the two retries empty it.
	if s.calls != 3 || err == nil || b.Tokens() != 0 {
		t.Fatalf("calls = %d, tokens = %d, err = %v", s.calls, b.Tokens(), err)
	}
	_, err = mw(context.Background(), read)
	if s.calls != 4 || !ops.HasCode(err, ops.CodeRetryBudgetExhausted) || exhausted != 1 {
		t.Fatalf("with no tokens: calls = %d, err = %v, exhausted = %d", s.calls, err, exhausted)
	}
	if !errors.Is(err, ops.ErrRejected) || !errors.Is(err, down) {
		t.Fatalf("budget error must be rejected and wrap the last failure: %v", err)
	}
	// 100 more failing requests: at most ratio×100 + burst = 12 retries in all, ever.
	calls := s.calls
	for range 100 {
		_, _ = mw(context.Background(), read)
	}
	retries := s.calls - calls - 100
	if retries < 9 || retries > 10 { // 0.1 × 100 deposited; ≤1 token lost to rounding
		t.Fatalf("retries over 100 requests = %d, want 10 (10%%)", retries)
	}
}

func TestBudgetCapsDeposits(t *testing.T) {
	b := retry.NewBudget(0.5, 3)
	s := &script{}
	mw := retry.New(retry.Policy{MaxAttempts: 2, Backoff: retry.NoBackoff, Budget: b})(s.handle)
	for range 100 {
		_, _ = mw(context.Background(), read)
	}
	if b.Tokens() != 3 {
		t.Fatalf("tokens = %d, want the burst 3", b.Tokens())
	}
}

func TestOneLogicalOpIsOneOuterCall(t *testing.T) {
	var outer int
	counting := func(next ops.Handler) ops.Handler {
		return func(ctx context.Context, op ops.Op) (ops.Result, error) {
			outer++
			return next(ctx, op)
		}
	}
	s := &script{errs: errs(2, down)}
	h := ops.Chain(counting, retry.New(retry.Policy{MaxAttempts: 3, Backoff: retry.NoBackoff}))(s.handle)
	if _, err := h(context.Background(), read); err != nil {
		t.Fatal(err)
	}
	if outer != 1 || s.calls != 3 {
		t.Fatalf("outer = %d, attempts = %d; want 1 span around 3 attempts", outer, s.calls)
	}
}

func TestExponentialFullJitter(t *testing.T) {
	var ceilings []int64
	b := retry.ExponentialRand(10*time.Millisecond, 50*time.Millisecond, func(n int64) int64 {
		ceilings = append(ceilings, n-1)
		return n - 1 // the top of the range
	})
	var got []time.Duration
	for n := 1; n <= 5; n++ {
		got = append(got, b(n))
	}
	want := []time.Duration{10, 20, 40, 50, 50}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("backoff = %v, want %v ms", got, want)
		}
	}
	zero := retry.ExponentialRand(10*time.Millisecond, time.Second, func(int64) int64 { return 0 })
	if zero(3) != 0 {
		t.Fatal("full jitter starts at 0")
	}
	for range 1000 {
		if d := retry.Exponential(time.Millisecond, 4*time.Millisecond)(10); d < 0 || d > 4*time.Millisecond {
			t.Fatalf("out of range: %v", d)
		}
	}
}

func BenchmarkRetrySuccess(b *testing.B) {
	h := retry.New(retry.DefaultPolicy())(func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{}, nil })
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = h(ctx, read)
	}
}
