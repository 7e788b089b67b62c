package client_test

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/middleware/breaker"
	"github.com/igniter-go/store/middleware/retry"
	"github.com/igniter-go/store/ops"
)

// scripted is an executor whose every call fails with err (nil: succeeds), counting the calls
// per kind and recording whether each had a deadline.
type scripted struct {
	mu        sync.Mutex
	err       error
	calls     map[ops.Kind]int
	deadlines []bool
}

func (s *scripted) handle(ctx context.Context, op ops.Op) (ops.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.calls == nil {
		s.calls = map[ops.Kind]int{}
	}
	s.calls[op.Kind]++
	_, ok := ctx.Deadline()
	s.deadlines = append(s.deadlines, ok)
	if s.err != nil {
		return ops.Result{}, s.err
	}
	return ops.Result{Int: 1}, nil
}

func (s *scripted) count(k ops.Kind) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[k]
}

// signals records the signals a store raises.
type signals struct {
	mu  sync.Mutex
	got []ops.Signal
}

func (r *signals) Observe(_ context.Context, s ops.Signal) {
	r.mu.Lock()
	r.got = append(r.got, s)
	r.mu.Unlock()
}

func (r *signals) of(kind ops.SignalKind) []ops.Signal {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []ops.Signal
	for _, s := range r.got {
		if s.Kind == kind {
			out = append(out, s)
		}
	}
	return out
}

var unavailable = ops.Failure(ops.KVGet, ops.ErrUnavailable, io.EOF)

func resilientStore(t *testing.T, ex *scripted, f func(*client.Builder) *client.Builder) (*client.Store, *signals) {
	t.Helper()
	rec := &signals{}
	b := client.New().WithService("api").WithAdapter(client.HandlerAdapter(ex.handle)).WithObserver(rec).
		WithRetry(retry.Policy{MaxAttempts: 3, Backoff: retry.NoBackoff}) // nothing waits
	if f != nil {
		b = f(b)
	}
	st, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st, rec
}

func TestRetryDefaultsRetryReadsOnly(t *testing.T) {
	ex := &scripted{err: unavailable}
	st, rec := resilientStore(t, ex, func(b *client.Builder) *client.Builder { return b.WithoutBreaker() })
	ctx := context.Background()
	if _, err := st.KV.Exists(ctx, "k"); !errors.Is(err, ops.ErrUnavailable) {
		t.Fatalf("err = %v", err)
	}
	if _, err := st.Counter.Increment(ctx, "n"); !errors.Is(err, ops.ErrUnavailable) {
		t.Fatalf("err = %v", err)
	}
	if err := st.KV.Set(ctx, "k", 1, 0); err == nil {
		t.Fatal("set must fail")
	}
	if got := ex.count(ops.KVExists); got != 3 {
		t.Fatalf("exists attempts = %d, want 3", got)
	}
	if got := ex.count(ops.CounterIncrement); got != 1 {
		t.Fatalf("INCR attempts = %d, want 1: a write is never retried", got)
	}
	if got := ex.count(ops.KVSet); got != 1 {
		t.Fatalf("SET attempts = %d, want 1", got)
	}
	retries := rec.of(ops.SignalRetry)
	if len(retries) != 2 {
		t.Fatalf("retry signals = %d, want 2", len(retries))
	}
	for i, s := range retries {
		if s.Op != ops.KVExists || s.N != int64(i+1) || s.Service != "api" || !errors.Is(s.Err, ops.ErrUnavailable) {
			t.Fatalf("retry signal %d = %+v", i, s)
		}
	}
	// Opting a write in per call.
	if err := st.KV.Set(retry.Idempotent(ctx), "k", 1, 0); err == nil {
		t.Fatal("set must fail")
	}
	if got := ex.count(ops.KVSet); got != 4 {
		t.Fatalf("SET attempts after opting in = %d, want 1+3", got)
	}
}

func TestRetryOffAndCustom(t *testing.T) {
	ex := &scripted{err: unavailable}
	st, _ := resilientStore(t, ex, func(b *client.Builder) *client.Builder { return b.WithoutBreaker().WithoutRetry() })
	_, _ = st.KV.Exists(context.Background(), "k")
	if got := ex.count(ops.KVExists); got != 1 {
		t.Fatalf("WithoutRetry: attempts = %d", got)
	}
	ex2 := &scripted{err: unavailable}
	var hooked int
	st2, _ := resilientStore(t, ex2, func(b *client.Builder) *client.Builder {
		return b.WithoutBreaker().WithRetry(retry.Policy{MaxAttempts: 5, Backoff: retry.NoBackoff,
			OnRetry: func(context.Context, retry.Attempt) { hooked++ }})
	})
	_, _ = st2.KV.Exists(context.Background(), "k")
	if got := ex2.count(ops.KVExists); got != 5 || hooked != 4 {
		t.Fatalf("MaxAttempts 5: attempts = %d, OnRetry = %d", got, hooked)
	}
}

func TestRetryBudgetSignal(t *testing.T) {
	ex := &scripted{err: unavailable}
	st, rec := resilientStore(t, ex, func(b *client.Builder) *client.Builder {
		return b.WithoutBreaker().WithRetry(retry.Policy{MaxAttempts: 3, Backoff: retry.NoBackoff, Budget: retry.NewBudget(0, 1)})
	})
	_, err := st.KV.Exists(context.Background(), "k")
	if !ops.HasCode(err, ops.CodeRetryBudgetExhausted) || !errors.Is(err, ops.ErrUnavailable) {
		t.Fatalf("err = %v", err)
	}
	if got := ex.count(ops.KVExists); got != 2 {
		t.Fatalf("attempts = %d, want 2 (one retry in the budget)", got)
	}
	if s := rec.of(ops.SignalRetryBudget); len(s) != 1 || s[0].Op != ops.KVExists || s[0].N != 2 {
		t.Fatalf("budget signals = %+v", s)
	}
}

func TestBreakerOpensAndStopsRetries(t *testing.T) {
	ex := &scripted{err: unavailable}
	var states []string
	st, rec := resilientStore(t, ex, func(b *client.Builder) *client.Builder {
		return b.WithBreaker(breaker.Settings{Failures: 2, Timeout: time.Hour,
			OnStateChange: func(_ string, from, to breaker.State) { states = append(states, from.String()+">"+to.String()) }})
	})
	ctx := context.Background()
	_, err := st.KV.Exists(ctx, "k") // attempt 1 fails, attempt 2 fails and opens, attempt 3 rejected
	if !errors.Is(err, breaker.ErrOpen) || !ops.HasCode(err, ops.CodeCircuitOpen) || !errors.Is(err, ops.ErrRejected) {
		t.Fatalf("err = %v", err)
	}
	if got := ex.count(ops.KVExists); got != 2 {
		t.Fatalf("attempts that reached Redis = %d, want 2", got)
	}
	for range 10 {
		if _, err := st.Counter.Increment(ctx, "n"); !errors.Is(err, breaker.ErrOpen) {
			t.Fatalf("open breaker: %v", err)
		}
	}
	if got := ex.count(ops.CounterIncrement); got != 0 {
		t.Fatalf("INCR sent through an open breaker: %d", got)
	}
	s := rec.of(ops.SignalBreakerState)
	if len(s) != 1 || s[0].Name != "redis" || s[0].From != "closed" || s[0].To != "open" || s[0].Service != "api" {
		t.Fatalf("breaker signals = %+v", s)
	}
	if len(states) != 1 || states[0] != "closed>open" {
		t.Fatalf("OnStateChange = %v", states)
	}
	// A scoped store shares the breaker.
	if _, err := st.MustScope("org", "1").KV.Exists(ctx, "k"); !errors.Is(err, breaker.ErrOpen) {
		t.Fatalf("scoped store: %v", err)
	}
}

func TestEachBuildHasItsOwnBreaker(t *testing.T) {
	ex := &scripted{err: unavailable}
	b := client.New().WithService("api").WithAdapter(client.HandlerAdapter(ex.handle)).WithoutRetry().
		WithBreaker(breaker.Settings{Failures: 1, Timeout: time.Hour})
	one, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	two, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	_, _ = one.KV.Exists(context.Background(), "k")
	if _, err := one.KV.Exists(context.Background(), "k"); !errors.Is(err, breaker.ErrOpen) {
		t.Fatalf("one: %v", err)
	}
	if _, err := two.KV.Exists(context.Background(), "k"); errors.Is(err, breaker.ErrOpen) {
		t.Fatal("two shares one's breaker")
	}
}

func TestBreakerOffAndMissesDoNotOpen(t *testing.T) {
	ex := &scripted{err: unavailable}
	st, _ := resilientStore(t, ex, func(b *client.Builder) *client.Builder { return b.WithoutBreaker().WithoutRetry() })
	for range 20 {
		_, _ = st.Counter.Increment(context.Background(), "n")
	}
	if got := ex.count(ops.CounterIncrement); got != 20 {
		t.Fatalf("WithoutBreaker: %d of 20 sent", got)
	}
	ex2 := &scripted{} // every GET is a miss (Bool false)
	st2, _ := resilientStore(t, ex2, nil)
	for range 20 {
		var v int
		if found, err := st2.KV.Get(context.Background(), "k", &v); err != nil || found {
			t.Fatalf("miss: %v %v", found, err)
		}
	}
	if got := ex2.count(ops.KVGet); got != 20 {
		t.Fatalf("misses opened the breaker: %d of 20 sent", got)
	}
}

func TestDefaultTimeout(t *testing.T) {
	ex := &scripted{}
	st, _ := resilientStore(t, ex, nil)
	_, _ = st.KV.Exists(context.Background(), "k")
	st2, _ := resilientStore(t, ex, func(b *client.Builder) *client.Builder { return b.WithTimeout(0) })
	_, _ = st2.KV.Exists(context.Background(), "k")
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if len(ex.deadlines) != 2 || !ex.deadlines[0] || ex.deadlines[1] {
		t.Fatalf("deadlines seen = %v, want [true false]", ex.deadlines)
	}
}

func TestResilienceSettingsAreNotObservers(t *testing.T) {
	// The settings ride in the builder's observer list until Build; they must never observe.
	ex := &scripted{err: unavailable}
	rec := &signals{}
	b := client.New().WithService("api").WithAdapter(client.HandlerAdapter(ex.handle)).WithoutRetry().
		WithBreaker(breaker.Settings{Failures: 1}).WithObserver(rec).WithTimeout(time.Second)
	branch := b.WithoutBreaker() // branching leaves b unchanged
	st, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	_, _ = st.KV.Exists(context.Background(), "k")
	if len(rec.of(ops.SignalBreakerState)) != 1 {
		t.Fatalf("signals = %+v", rec.got)
	}
	st2, err := branch.Build()
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := st2.KV.Exists(context.Background(), "k"); errors.Is(err, breaker.ErrOpen) {
			t.Fatal("the branch has no breaker")
		}
	}
}
