package leader_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/internal/faultproxy"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/leader"
	"github.com/igniter-go/store/ops"
)

// runRecovered calls el.Run as a caller that recovers panics would, and returns what Run
// returned or the panic that went through it.
func runRecovered(ctx context.Context, el *leader.Election, fn func(context.Context, *leader.Term) error) (err error, panicked any) {
	defer func() { panicked = recover() }()
	return el.Run(ctx, fn), nil
}

// Defect 12: a Run function that panics ends its term like any other return: the lease is
// released and the record removed, so another candidate wins at once. The panic goes on to the
// caller (fn runs on the caller's goroutine); a caller that recovers it keeps a working process,
// and the same election can campaign and win again.
func TestLeaderGuaranteeRunPanicEndsTheTerm(t *testing.T) {
	srv := redistest.Start(t)
	a, b := newCandidate(t, srv.Addr, "a"), newCandidate(t, srv.Addr, "b")
	ctx := context.Background()
	var termCtx context.Context
	err, panicked := runRecovered(ctx, a.el, func(ctx context.Context, _ *leader.Term) error {
		termCtx = ctx
		panic("job exploded")
	})
	if panicked != "job exploded" || err != nil {
		t.Errorf("Run with a panicking fn: returned %v, panicked with %v; want the panic to go on", err, panicked)
	}
	if termCtx == nil || termCtx.Err() == nil {
		t.Error("the panicked term's context is still live")
	}
	wb := awaitWin(t, campaign(ctx, b)) // before the fix: the dead job's term held the lease forever
	if r, ok, _ := b.el.Leader(ctx); !ok || r.ID != "b" {
		t.Errorf("leader record %+v ok=%v after the new leader won, want b's", r, ok)
	}
	if err := wb.term.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	ta := mustLead(t, a) // the process is alive and the panicked election can win again
	if err := ta.Resign(ctx); err != nil {
		t.Fatal(err)
	}
}

// The term's own goroutine (the lease's upkeep and the leader record's) runs user middleware:
// a middleware that panics there ends the term with STORE_CALLBACK_PANIC in Term.Err, the
// lease is released, and the process lives on; another candidate wins.
func TestLeaderGuaranteePanicOnTheTermGoroutineIsReported(t *testing.T) {
	srv := redistest.Start(t)
	var armed atomic.Bool
	panicky := func(next ops.Handler) ops.Handler {
		return func(ctx context.Context, op ops.Op) (ops.Result, error) {
			if op.Kind == ops.KVSet && armed.Load() {
				panic("middleware exploded")
			}
			return next(ctx, op)
		}
	}
	a := newCandidateWith(t, &redis.Options{Addr: srv.Addr}, "a", panicky)
	b := newCandidate(t, srv.Addr, "b")
	ctx := context.Background()
	ta := mustLead(t, a)
	armed.Store(true) // the record's next refresh, on the term's goroutine, panics
	<-ta.Done()
	if err := ta.Err(); !ops.HasCode(err, ops.CodeCallbackPanic) {
		t.Errorf("term after a panic on its goroutine: %v, want STORE_CALLBACK_PANIC", err)
	}
	if ta.Context().Err() == nil {
		t.Error("the term's context is live after it ended")
	}
	wb := awaitWin(t, campaign(ctx, b))
	if err := wb.term.Resign(ctx); err != nil {
		t.Fatal(err)
	}
}

// Defect 13: the acquire's reply arrives after the lease's TTL (a slow network, a GC pause):
// by then the lease expired and another candidate leads with a larger fence. Campaign must not
// hand out the late lease as a term (two leaders at once) nor overwrite the leader record; it
// campaigns on.
func TestLeaderGuaranteeLateAcquireReplyIsNoTerm(t *testing.T) {
	srv := redistest.Start(t)
	proxy := faultproxy.Start(t, srv.Addr)
	b := newCandidate(t, srv.Addr, "b")
	ctx := context.Background()
	if err := mustLead(t, b).Resign(ctx); err != nil { // the script is cached, the fence counter exists
		t.Fatal(err)
	}

	attempts := make(chan struct{}, 64)
	signal := func(next ops.Handler) ops.Handler {
		return func(ctx context.Context, op ops.Op) (ops.Result, error) {
			if op.Kind == ops.LeaseAcquire {
				attempts <- struct{}{}
			}
			return next(ctx, op)
		}
	}
	// A long read timeout: the held reply must arrive late, not fail.
	a := newCandidateWith(t, &redis.Options{Addr: proxy.Addr, ReadTimeout: time.Minute}, "a", signal)
	held, release := proxy.HoldReplyTo("evalsha")
	actx, stopA := context.WithCancel(ctx)
	defer stopA()
	lateA := campaign(actx, a)
	<-held // a's acquire ran in Redis: a holds the lease, but does not know it yet
	<-attempts

	wb := awaitWin(t, campaign(ctx, b)) // a's lease expired unseen: b wins
	defer wb.term.Resign(ctx)
	release()
	select {
	case w := <-lateA:
		if w.err == nil {
			t.Fatalf("Campaign returned a term (fence %d) from a reply that came after its lease's TTL, while b leads with fence %d",
				w.term.Fence(), wb.term.Fence())
		}
		t.Fatalf("Campaign after a late reply: %v, want it to campaign on", w.err)
	case <-attempts: // a gave the late lease up and tries again
	}
	if r, ok, err := b.el.Leader(ctx); err != nil || !ok || r.ID != "b" || r.Fence != wb.term.Fence() {
		t.Errorf("leader record %+v ok=%v err=%v, want b/%d", r, ok, err, wb.term.Fence())
	}
	stopA()
	if w := <-lateA; w.err == nil || !errors.Is(w.err, ops.ErrCanceled) {
		t.Errorf("a's campaign after cancel: term=%v err=%v, want STORE_CANCELED", w.term != nil, w.err)
	}
}

// Defect 14: Redis restarts without persistence while a leader runs; the fence counter is gone.
// The next leader's fence must still be larger than the running leader's, or fenced storage
// would take the old leader's writes and reject the new one's.
func TestLeaderGuaranteeFencesGrowAcrossDataLoss(t *testing.T) {
	srv := redistest.Start(t) // persistence off: Restart loses every key
	a, b := newCandidate(t, srv.Addr, "a"), newCandidate(t, srv.Addr, "b")
	ctx := context.Background()
	for range 2 {
		if err := mustLead(t, a).Resign(ctx); err != nil {
			t.Fatal(err)
		}
	}
	ta := mustLead(t, a)
	srv.Restart()
	wb := awaitWin(t, campaign(ctx, b))
	defer wb.term.Resign(ctx)
	if wb.term.Fence() <= ta.Fence() {
		t.Errorf("after Redis lost its data the new leader's fence is %d, the running leader's %d: want strictly larger",
			wb.term.Fence(), ta.Fence())
	}
	<-ta.Done() // its next extension finds the lease gone
	if err := ta.Err(); !ops.HasCode(err, ops.CodeLeaseLost) {
		t.Errorf("old leader's term after the restart: %v, want STORE_LEASE_LOST", err)
	}
}
