package breaker_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/igniter-go/store/middleware/breaker"
	"github.com/igniter-go/store/ops"
)

// A call admitted while the breaker was closed and clean, that succeeds after another call
// failed, resets the run of failures as gobreaker would: the success is reported late, not
// dropped.
func TestFastPathSuccessAfterAFailureResetsTheRun(t *testing.T) {
	b := breaker.New(breaker.Settings{Failures: 2, Timeout: time.Hour})
	entered, release := make(chan struct{}), make(chan struct{})
	slow := b.Middleware()(func(context.Context, ops.Op) (ops.Result, error) {
		close(entered)
		<-release
		return ops.Result{}, nil
	})
	failing := b.Middleware()(func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{}, down })

	done := make(chan struct{})
	go func() { defer close(done); _, _ = slow(context.Background(), op) }()
	<-entered
	_, _ = failing(context.Background(), op) // run of failures: 1
	close(release)
	<-done // its success resets the run to 0
	_, _ = failing(context.Background(), op)
	if s := b.State(); s != breaker.StateClosed {
		t.Fatalf("state = %v after failure, success, failure with Failures: 2; the late success was not counted", s)
	}
	_, _ = failing(context.Background(), op)
	if s := b.State(); s != breaker.StateOpen {
		t.Fatalf("state = %v after two consecutive failures, want open", s)
	}
}

// Once the breaker is open, no call reaches the handler, whichever path admitted the callers
// racing it; and the breaker opens after exactly Failures consecutive failures even while
// many callers run on the fast path.
func TestFastPathNothingPassesAnOpenBreaker(t *testing.T) {
	var failing atomic.Bool
	var afterOpen atomic.Int64
	var opened atomic.Bool
	b := breaker.New(breaker.Settings{Failures: 5, Timeout: time.Hour, OnStateChange: func(_ string, _, to breaker.State) {
		if to == breaker.StateOpen {
			opened.Store(true)
		}
	}})
	var inFlight sync.WaitGroup
	h := b.Middleware()(func(context.Context, ops.Op) (ops.Result, error) {
		if failing.Load() {
			return ops.Result{}, down
		}
		return ops.Result{}, nil
	})
	// Phase 1: 32 callers succeed on the fast path.
	for range 32 {
		inFlight.Go(func() {
			for range 200 {
				if _, err := h(context.Background(), op); err != nil {
					t.Errorf("closed breaker, healthy handler: %v", err)
					return
				}
			}
		})
	}
	inFlight.Wait()
	if s := b.State(); s != breaker.StateClosed {
		t.Fatalf("state after 6400 successes = %v", s)
	}
	// Phase 2: every call fails; the breaker opens, and afterwards every call is rejected.
	failing.Store(true)
	for range 32 {
		inFlight.Go(func() {
			for range 200 {
				_, err := h(context.Background(), op)
				if opened.Load() && err != nil && !ops.HasCode(err, ops.CodeCircuitOpen) {
					afterOpen.Add(1)
				}
			}
		})
	}
	inFlight.Wait()
	if s := b.State(); s != breaker.StateOpen {
		t.Fatalf("state after 6400 failures = %v, want open", s)
	}
	// Calls already past the breaker when it opened may still fail on their own; there are at
	// most as many as callers. Any more means calls were admitted after it opened.
	if n := afterOpen.Load(); n > 32 {
		t.Fatalf("%d calls reached the handler after the breaker opened", n)
	}
}
