package leader_test

import (
	"context"
	"errors"
	"math"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/leader"
	"github.com/igniter-go/store/ops"
)

// "However the function ends, the term ends and its lease is released": a Run function that
// ends with runtime.Goexit (t.FailNow on a goroutine, a library that exits its goroutine) too.
// Before the fix the term (and Lease.Hold's watchdog) kept the lease for ever: b never won.
func TestLeaderGuaranteeRunGoexitEndsTheTerm(t *testing.T) {
	srv := redistest.Start(t)
	a, b := newCandidate(t, srv.Addr, "a"), newCandidate(t, srv.Addr, "b")
	ctx := context.Background()
	terms := make(chan *leader.Term, 1)
	exited := make(chan struct{})
	go func() {
		defer close(exited) // after Run's deferred calls
		_ = a.el.Run(ctx, func(_ context.Context, t *leader.Term) error {
			terms <- t
			runtime.Goexit()
			return nil
		})
	}()
	ta := <-terms
	<-exited
	if ta.Context().Err() == nil {
		t.Error("the term of a Run function that called runtime.Goexit is still live")
	}
	cctx, cancel := context.WithTimeout(ctx, 4*testTTL) // the lease would have expired long before
	defer cancel()
	tb, err := b.el.Campaign(cctx)
	if err != nil {
		t.Fatalf("after a's Run function called runtime.Goexit, b cannot win: %v", err)
	}
	if err := tb.Resign(ctx); err != nil {
		t.Fatal(err)
	}
}

// New promises STORE_CONFIGURATION_INVALID for invalid options. A TTL the store refuses for a
// lease (above client.MaxTTL) must be refused there, not by every Campaign.
func TestLeaderGuaranteeHugeTTLIsAConfigurationError(t *testing.T) {
	srv := redistest.Start(t)
	c := newCandidate(t, srv.Addr, "a")
	el, err := leader.New(c.st, "huge", leader.Options{TTL: math.MaxInt64})
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), testTTL)
		defer cancel()
		term, cerr := el.Campaign(ctx)
		if term != nil {
			_ = term.Resign(context.Background())
		}
		t.Fatalf("New accepted TTL %v; Campaign then: %v", time.Duration(math.MaxInt64), cerr)
	}
	if !ops.HasCode(err, ops.CodeConfigurationInvalid) {
		t.Fatalf("New with a TTL above the store's limit: %v, want STORE_CONFIGURATION_INVALID", err)
	}
}

// Campaign's doc: "The term it returns has its record written and its context live." The record
// is advisory: a failed first write (Redis hiccup, a refusing middleware) must not cost the
// term, so the doc now says what holds: the record's first write was attempted, and the
// term's context was live when it was.
func TestLeaderGuaranteeCampaignReturnsATermWhoseRecordWriteFailed(t *testing.T) {
	srv := redistest.Start(t)
	refuse := func(next ops.Handler) ops.Handler {
		return func(ctx context.Context, op ops.Op) (ops.Result, error) {
			if op.Kind == ops.KVSet {
				return ops.Result{}, ops.Failure(op.Kind, ops.ErrUnavailable, errors.New("record writes refused"))
			}
			return next(ctx, op)
		}
	}
	a := newCandidateWith(t, &redis.Options{Addr: srv.Addr}, "a", refuse)
	ctx := context.Background()
	ta := mustLead(t, a)
	defer ta.Resign(ctx)
	if r, ok, err := a.el.Leader(ctx); err != nil || ok {
		t.Fatalf("leader record %+v ok=%v err=%v, want none (every write refused)", r, ok, err)
	}
	if ta.Context().Err() != nil {
		t.Errorf("the term's context is not live: %v", context.Cause(ta.Context()))
	}
}

// Redis restarts without persistence while a leads: the lease is gone, and b wins at once. The
// package doc promised a's context ends "before another instance can take over"; that cannot
// hold when Redis itself forgets the lease (a learns it at its next extension). The narrowed
// promise: b's fence is larger, a's context ends at a's next extension, with STORE_LEASE_LOST.
func TestLeaderGuaranteeDataLossEndsTheOldTermAtItsNextExtension(t *testing.T) {
	srv := redistest.Start(t)
	a, b := newCandidate(t, srv.Addr, "a"), newCandidate(t, srv.Addr, "b")
	ctx := context.Background()
	ta := mustLead(t, a)
	var endedBeforeB atomic.Bool
	bWon := make(chan struct{})
	context.AfterFunc(ta.Context(), func() {
		select {
		case <-bWon:
		default:
			endedBeforeB.Store(true)
		}
	})
	srv.Restart()
	wb := awaitWin(t, campaign(ctx, b))
	close(bWon)
	defer wb.term.Resign(ctx)
	t.Logf("a's term ended before b won: %v (not promised after data loss)", endedBeforeB.Load())
	if wb.term.Fence() <= ta.Fence() {
		t.Errorf("fence after data loss %d, running leader's %d", wb.term.Fence(), ta.Fence())
	}
	<-ta.Done()
	if cause := context.Cause(ta.Context()); !ops.HasCode(cause, ops.CodeLeaseLost) {
		t.Errorf("a's term after the data loss: %v, want STORE_LEASE_LOST", cause)
	}
}

// The term's goroutine runs user middleware; one that ends the goroutine with runtime.Goexit
// (t.FailNow in a test middleware) on the first record write must not make Campaign return
// neither a term nor an error (Run would then dereference a nil term). It is reported like a
// panic: STORE_CALLBACK_PANIC, and the lease is released.
func TestLeaderGuaranteeGoexitOnTheTermGoroutineIsAnError(t *testing.T) {
	srv := redistest.Start(t)
	var armed atomic.Bool
	armed.Store(true)
	exiting := func(next ops.Handler) ops.Handler {
		return func(ctx context.Context, op ops.Op) (ops.Result, error) {
			if op.Kind == ops.KVSet && armed.Load() {
				runtime.Goexit()
			}
			return next(ctx, op)
		}
	}
	a := newCandidateWith(t, &redis.Options{Addr: srv.Addr}, "a", exiting)
	ctx, cancel := context.WithTimeout(context.Background(), 4*testTTL)
	defer cancel()
	term, err := a.el.Campaign(ctx)
	if term == nil && err == nil {
		t.Fatal("Campaign returned neither a term nor an error")
	}
	if term != nil {
		_ = term.Resign(ctx)
		t.Fatalf("Campaign returned a term whose goroutine exited before its record was written")
	}
	if !ops.HasCode(err, ops.CodeCallbackPanic) {
		t.Errorf("Campaign: %v, want STORE_CALLBACK_PANIC", err)
	}
	armed.Store(false)
	b := newCandidate(t, srv.Addr, "b")
	tb := mustLead(t, b) // the lease was released: b wins without waiting for expiry
	_ = tb.Resign(ctx)
}
