package executor

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/ops"
)

// heldExec is a lane's exec that hands each batch to the test and runs it when the test says:
// which commands ride which batch is then known, not guessed.
type heldExec struct {
	batches chan []redis.Cmder // each batch, as exec receives it
	release chan func()        // what to do with it: nil answers every command
}

func newHeldExec() *heldExec {
	return &heldExec{batches: make(chan []redis.Cmder), release: make(chan func())}
}

func (h *heldExec) exec(_ context.Context, cmds []redis.Cmder) {
	h.batches <- cmds
	if f := <-h.release; f != nil {
		f()
		return
	}
	for _, c := range cmds {
		c.(*redis.StatusCmd).SetVal("OK")
	}
}

// next waits for the lane's next batch and returns the names of its commands.
func (h *heldExec) next(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, c := range <-h.batches {
		names = append(names, c.Args()[1].(string))
	}
	return names
}

func laneCmd(name string) *redis.StatusCmd {
	return redis.NewStatusCmd(context.Background(), "set", name, 1)
}

func sameNames(a []string, b ...string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Commands submitted while a batch is in flight wait in the queue, and go together, in order,
// in the next batch: one batch in flight, the next one taking what queued.
func TestLaneQueuesBehindTheBatchInFlight(t *testing.T) {
	h := newHeldExec()
	l := newLane(200, false, h.exec)
	first := l.submit(context.Background(), laneCmd("a"))
	if got := h.next(t); !sameNames(got, "a") {
		t.Fatalf("first batch %v, want [a]", got)
	}
	b, c := laneCmd("b"), laneCmd("c")
	bb, cb := l.submit(context.Background(), b), l.submit(context.Background(), c)
	if bb != cb || bb == first {
		t.Fatal("b and c, queued behind the batch in flight, must share the next batch")
	}
	select {
	case <-bb.done:
		t.Fatal("a queued batch completed before the batch ahead of it")
	default:
	}
	h.release <- nil
	<-first.done
	if got := h.next(t); !sameNames(got, "b", "c") {
		t.Fatalf("second batch %v, want [b c]", got)
	}
	h.release <- nil
	if err := bb.waitContext(context.Background(), c); err != nil || c.Val() != "OK" {
		t.Fatalf("c: %q %v, want its own reply", c.Val(), err)
	}
	l.close()
}

// A batch takes at most max commands; the ones after them go in the next batch.
func TestLaneCapsABatch(t *testing.T) {
	h := newHeldExec()
	l := newLane(2, false, h.exec)
	l.submit(context.Background(), laneCmd("a"))
	h.next(t)
	for i := range 5 {
		l.submit(context.Background(), laneCmd("q"+strconv.Itoa(i)))
	}
	h.release <- nil
	for _, want := range [][]string{{"q0", "q1"}, {"q2", "q3"}, {"q4"}} {
		if got := h.next(t); !sameNames(got, want...) {
			t.Fatalf("batch %v, want %v", got, want)
		}
		h.release <- nil
	}
	l.close()
}

// The ctx of a queued command ends its wait with the ctx error; the batch is not waited for.
func TestLaneWaitEndsWithTheCallersCtx(t *testing.T) {
	h := newHeldExec()
	l := newLane(200, false, h.exec)
	l.submit(context.Background(), laneCmd("a"))
	h.next(t)
	cmd := laneCmd("b")
	b := l.submit(context.Background(), cmd)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.waitContext(ctx, cmd); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait of a queued command whose ctx ended: %v, want context.Canceled", err)
	}
	h.release <- nil
	h.next(t)
	h.release <- nil
	l.close()
}

// A panic inside a batch (an application's ClusterClient hook runs there) fails the commands of
// that batch that had no error with STORE_OUTCOME_UNKNOWN wrapping the STORE_CALLBACK_PANIC (the
// panic may have come after the write), and the lane runs the next batch.
func TestLanePanicInABatchFailsOnlyItsCommands(t *testing.T) {
	h := newHeldExec()
	l := newLane(200, false, h.exec)
	a, b := laneCmd("a"), laneCmd("b")
	ab := l.submit(context.Background(), a)
	h.next(t)
	bb := l.submit(context.Background(), b)
	h.release <- func() { panic("hook") }
	var panicked *ops.PanicValue
	if err := ab.waitContext(context.Background(), a); ops.CodeOf(err) != ops.CodeOutcomeUnknown || !errors.As(err, &panicked) {
		t.Fatalf("command of the panicking batch: %v, want STORE_OUTCOME_UNKNOWN wrapping the panic", err)
	}
	h.next(t)
	h.release <- nil
	if err := bb.waitContext(context.Background(), b); err != nil || b.Val() != "OK" {
		t.Fatalf("command of the next batch: %q %v, want its reply", b.Val(), err)
	}
	l.close()
}

// Close runs what is queued, then stops; a later submit fails with redis.ErrClosed at once.
func TestLaneCloseRunsWhatIsQueued(t *testing.T) {
	h := newHeldExec()
	l := newLane(200, false, h.exec)
	l.submit(context.Background(), laneCmd("a"))
	h.next(t)
	q := laneCmd("q")
	qb := l.submit(context.Background(), q)
	closed := make(chan struct{})
	go func() { l.close(); close(closed) }()
	h.release <- nil
	if got := h.next(t); !sameNames(got, "q") {
		t.Fatalf("batch after close %v, want the queued [q]", got)
	}
	h.release <- nil
	<-closed
	if err := qb.waitContext(context.Background(), q); err != nil {
		t.Fatalf("queued command at close: %v, want its reply", err)
	}
	late := laneCmd("late")
	if err := l.submit(context.Background(), late).waitContext(context.Background(), late); !errors.Is(err, redis.ErrClosed) {
		t.Fatalf("submit after close: %v, want redis.ErrClosed", err)
	}
}

// On a client without socket timeouts (a bound lane) a batch runs under the latest deadline of its
// callers, so one the server never answers ends once every caller has gone; a caller without a
// deadline leaves its batch without one. Elsewhere the client's timeouts bound a batch, which
// runs under context.Background.
func TestLaneBatchRunsUnderItsCallersLatestDeadline(t *testing.T) {
	type seen struct {
		deadline time.Time
		ok       bool
	}
	at := func(d time.Duration) (context.Context, time.Time) {
		when := time.Now().Add(d)
		ctx, cancel := context.WithDeadline(context.Background(), when)
		t.Cleanup(cancel)
		return ctx, when
	}
	for _, bound := range []bool{true, false} {
		got := make(chan seen)
		release := make(chan struct{})
		l := newLane(200, bound, func(ctx context.Context, cmds []redis.Cmder) {
			d, ok := ctx.Deadline()
			got <- seen{d, ok}
			<-release
		})
		ctxA, dA := at(time.Hour)
		l.submit(ctxA, laneCmd("a"))
		first := <-got // batch [a], held
		ctxB, dB := at(3 * time.Hour)
		ctxC, _ := at(2 * time.Hour)
		l.submit(ctxB, laneCmd("b"))
		l.submit(ctxC, laneCmd("c"))
		release <- struct{}{}
		second := <-got // batch [b c], held
		ctxX, _ := at(time.Hour)
		l.submit(ctxX, laneCmd("x"))
		l.submit(context.Background(), laneCmd("y"))
		release <- struct{}{}
		third := <-got // batch [x y]
		release <- struct{}{}
		l.close()
		if !bound {
			if first.ok || second.ok || third.ok {
				t.Fatalf("a lane on a client with socket timeouts gave a batch a deadline: %v %v %v", first, second, third)
			}
			continue
		}
		if !first.ok || !first.deadline.Equal(dA) || !second.ok || !second.deadline.Equal(dB) {
			t.Fatalf("batch deadlines %v and %v, want %v (its caller's) and %v (the later of two)", first, second, dA, dB)
		}
		if third.ok {
			t.Fatalf("batch with a caller without a deadline ran under %v, want none", third.deadline)
		}
	}
}
