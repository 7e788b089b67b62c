package leader_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/faultproxy"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/leader"
	"github.com/igniter-go/store/ops"
)

const testTTL = 1500 * time.Millisecond

// candidate is one instance: its own store (its own connections) and its election.
type candidate struct {
	st *client.Store
	el *leader.Election
}

func newCandidate(t *testing.T, addr, id string) candidate {
	t.Helper()
	return newCandidateWith(t, &redis.Options{Addr: addr}, id)
}

// newCandidateWith is newCandidate with the store's own middleware and go-redis options.
func newCandidateWith(t *testing.T, o *redis.Options, id string, mws ...ops.Middleware) candidate {
	t.Helper()
	o.MaxRetries, o.ContextTimeoutEnabled = -1, true // ContextTimeoutEnabled: what the store's Build requires
	st, err := client.New().WithService("cron").WithAdapter(client.Redis(redis.NewClient(o), client.OwnClient())).Use(mws...).Build()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	el, err := leader.New(st, "nightly-report", leader.Options{TTL: testTTL, ID: id})
	if err != nil {
		t.Fatal(err)
	}
	return candidate{st: st, el: el}
}

// won is a campaign's outcome, with the time it returned.
type won struct {
	term *leader.Term
	at   time.Time
	err  error
}

func campaign(ctx context.Context, c candidate) <-chan won {
	ch := make(chan won, 1)
	go func() {
		term, err := c.el.Campaign(ctx)
		ch <- won{term: term, at: time.Now(), err: err}
	}()
	return ch
}

func awaitWin(t *testing.T, ch <-chan won) won {
	t.Helper()
	select {
	case w := <-ch:
		if w.err != nil {
			t.Fatalf("campaign: %v", w.err)
		}
		return w
	case <-time.After(30 * time.Second): // only a hang reaches it
		t.Fatal("no candidate won")
	}
	return won{}
}

func mustLead(t *testing.T, c candidate) *leader.Term {
	t.Helper()
	return awaitWin(t, campaign(context.Background(), c)).term
}

// The leader's store is closed without resigning: its lease is no longer extended, the term
// ends with STORE_LEASE_LOST, and the waiting candidate wins within the lease TTL (plus one
// retry interval), with a larger fencing token.
func TestLeaderClosedWithoutResignIsReplacedWithinTTL(t *testing.T) {
	srv := redistest.Start(t)
	a, b := newCandidate(t, srv.Addr, "a"), newCandidate(t, srv.Addr, "b")
	ctx := context.Background()
	ta := mustLead(t, a)
	waitRecord(t, b.el, "a", ta.Fence())
	next := campaign(ctx, b)

	left := leaseLeft(t, srv)
	killed := time.Now()
	if err := a.st.Close(); err != nil {
		t.Fatal(err)
	}
	wb := awaitWin(t, next)
	defer wb.term.Resign(ctx)
	wantPromptTakeover(t, "the leader's store closed", wb.at.Sub(killed), left)
	if wb.term.Fence() <= ta.Fence() {
		t.Errorf("fence: new leader %d, old %d: want strictly larger", wb.term.Fence(), ta.Fence())
	}
	<-ta.Done()
	if err := ta.Err(); !ops.HasCode(err, ops.CodeLeaseLost) {
		t.Errorf("closed leader's term: want STORE_LEASE_LOST, got %v", err)
	}
	waitRecord(t, b.el, "b", wb.term.Fence())
}

// The leader's connection stalls (a proxy that stops forwarding, as in a partition): its
// extensions hang, its term's context is cancelled before its lease can have expired, and the
// other candidate wins within the TTL with a larger fence, after the old term stopped.
func TestLeaderStalledConnectionIsReplacedWithinTTL(t *testing.T) {
	srv := redistest.Start(t)
	proxy := faultproxy.Start(t, srv.Addr)
	a, b := newCandidate(t, proxy.Addr, "a"), newCandidate(t, srv.Addr, "b")
	ctx := context.Background()
	ta := mustLead(t, a)
	stopped := make(chan time.Time, 1)
	context.AfterFunc(ta.Context(), func() { stopped <- time.Now() })
	next := campaign(ctx, b)

	left := leaseLeft(t, srv)
	frozen := time.Now()
	proxy.StallAll()
	wb := awaitWin(t, next)
	defer wb.term.Resign(ctx)
	wantPromptTakeover(t, "the leader's connection stalled", wb.at.Sub(frozen), left)
	if wb.term.Fence() <= ta.Fence() {
		t.Errorf("fence: new leader %d, old %d: want strictly larger", wb.term.Fence(), ta.Fence())
	}
	select {
	case at := <-stopped:
		if !at.Before(wb.at) {
			t.Errorf("the stalled leader's term ended %v after the new leader won", at.Sub(wb.at))
		}
	default:
		t.Error("the new leader won while the stalled leader's term context was still live")
	}
	if cause := context.Cause(ta.Context()); !ops.HasCode(cause, ops.CodeLeaseLost) {
		t.Errorf("stalled term's cause: want STORE_LEASE_LOST, got %v", cause)
	}
	<-ta.Done()
	_ = a.st.Close()
}

// Resigning hands leadership over at once (no wait for expiry) and clears the record; every
// new term's fence is larger than the one before, across candidates.
func TestLeaderResignHandsOverAndFencesIncrease(t *testing.T) {
	srv := redistest.Start(t)
	cs := []candidate{newCandidate(t, srv.Addr, "a"), newCandidate(t, srv.Addr, "b"), newCandidate(t, srv.Addr, "c")}
	ctx := context.Background()
	var fences []int64
	for round := range 6 {
		c := cs[round%len(cs)]
		term := mustLead(t, c)
		fences = append(fences, term.Fence())
		if r, ok, err := c.el.Leader(ctx); err != nil || !ok || r.ID != c.el.ID() || r.Fence != term.Fence() {
			t.Fatalf("round %d: leader record %+v ok=%v err=%v, want %s/%d", round, r, ok, err, c.el.ID(), term.Fence())
		}
		// While it leads, another candidate cannot win.
		cctx, cancel := context.WithTimeout(ctx, testTTL/5)
		_, err := cs[(round+1)%len(cs)].el.Campaign(cctx)
		cancel()
		if !errors.Is(err, ops.ErrCanceled) {
			t.Fatalf("round %d: a second candidate campaigned with %v, want a cancelled campaign", round, err)
		}
		if err := term.Resign(ctx); err != nil {
			t.Fatalf("round %d: resign: %v", round, err)
		}
		if term.Context().Err() == nil {
			t.Fatalf("round %d: a resigned term's context is live", round)
		}
		if _, ok, _ := c.el.Leader(ctx); ok {
			t.Fatalf("round %d: leader record left after resigning", round)
		}
	}
	for i := 1; i < len(fences); i++ {
		if fences[i] <= fences[i-1] {
			t.Fatalf("fences %v do not strictly increase", fences)
		}
	}
}

// Run runs the job in exactly one instance at a time: three instances run a job that records
// its fence into a fenced sink, the leader is closed, and the job moves on with a larger fence.
func TestLeaderRunMovesTheJob(t *testing.T) {
	srv := redistest.Start(t)
	cs := []candidate{newCandidate(t, srv.Addr, "a"), newCandidate(t, srv.Addr, "b"), newCandidate(t, srv.Addr, "c")}
	type start struct {
		id    string
		fence int64
	}
	starts := make(chan start, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, len(cs))
	for _, c := range cs {
		go func() {
			done <- c.el.Run(ctx, func(ctx context.Context, t *leader.Term) error {
				starts <- start{c.el.ID(), t.Fence()}
				<-ctx.Done()
				return nil
			})
		}()
	}
	first := <-starts
	for _, c := range cs {
		if c.el.ID() == first.id {
			_ = c.st.Close() // Run then returns STORE_CLOSED from its next campaign
		}
	}
	second := <-starts
	if second.id == first.id || second.fence <= first.fence {
		t.Fatalf("after the leader closed: first %+v, second %+v", first, second)
	}
	select {
	case s := <-starts:
		t.Fatalf("a third job started while the second leads: %+v", s)
	default:
	}
	cancel()
	var closed int
	for range cs {
		if err := <-done; err != nil {
			if !ops.HasCode(err, ops.CodeClosed) {
				t.Errorf("Run: %v", err)
			}
			closed++
		}
	}
	if closed != 1 {
		t.Errorf("%d Runs ended with STORE_CLOSED, want the closed instance's only", closed)
	}
}

// leaseLeft returns the time to live Redis gives the election's lease now: at most the TTL.
func leaseLeft(t *testing.T, srv *redistest.Server) time.Duration {
	t.Helper()
	left, err := srv.Client(t).PTTL(context.Background(), "igniter:store:cron:claim:nightly-report").Result()
	if err != nil || left <= 0 || left > testTTL {
		t.Fatalf("lease PTTL %v (%v), want within (0, %v]", left, err, testTTL)
	}
	return left
}

// wantPromptTakeover checks that the new leader won once the dead leader's lease expired (left
// after the fault, at most the TTL) plus one retry interval. The slack absorbs scheduling on a
// shared machine; a takeover that waited for anything else (a second TTL, a read timeout) is
// far beyond it.
func wantPromptTakeover(t *testing.T, fault string, took, left time.Duration) {
	t.Helper()
	const retry, slack = testTTL / 10, 500 * time.Millisecond
	t.Logf("new leader %v after %s (lease had %v left, TTL %v)", took, fault, left, testTTL)
	if took > left+retry+slack {
		t.Errorf("new leader %v after %s, want within the lease's remaining %v + one retry interval %v (+%v slack)", took, fault, left, retry, slack)
	}
}

// waitRecord polls the leader record until it names id with fence (it is written as the term
// begins, by the term's goroutine).
func waitRecord(t *testing.T, el *leader.Election, id string, fence int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var last leader.Record
	_ = el.Observe(ctx, func(r leader.Record, ok bool) {
		last = r
		if ok && r.ID == id && r.Fence == fence {
			cancel()
		}
	})
	if last.ID != id || last.Fence != fence {
		t.Fatalf("leader record %+v, want %s/%d", last, id, fence)
	}
}
