package breaker_test

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/igniter-go/store/middleware/breaker"
	"github.com/igniter-go/store/ops"
)

var (
	down     = ops.Failure(ops.KVGet, ops.ErrUnavailable, io.EOF)
	replyErr = ops.Failure(ops.KVGet, ops.ErrFailed, errors.New("WRONGTYPE"))
	invalid  = ops.Invalid(ops.CodeKeyRequired, "kv.get", "Key is required", nil)
	closed   = ops.NewError(ops.CodeClosed, "kv.get", "closed", nil)
	timedOut = ops.Failure(ops.KVGet, ops.ErrUnavailable, context.DeadlineExceeded)
	op       = ops.Op{Kind: ops.KVGet}
)

// driver runs calls through a breaker with a handler that returns the error it is given, and
// records the calls that reached the handler and the transitions.
type driver struct {
	t           *testing.T
	b           *breaker.Breaker
	h           ops.Handler
	mu          sync.Mutex
	next        error
	reached     int
	transitions []string
}

func newDriver(t *testing.T, s breaker.Settings) *driver {
	d := &driver{t: t}
	s.OnStateChange = func(name string, from, to breaker.State) {
		d.mu.Lock()
		d.transitions = append(d.transitions, from.String()+">"+to.String())
		d.mu.Unlock()
	}
	d.b = breaker.New(s)
	d.h = d.b.Middleware()(func(context.Context, ops.Op) (ops.Result, error) {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.reached++
		return ops.Result{}, d.next
	})
	return d
}

func (d *driver) call(ctx context.Context, err error) error {
	d.mu.Lock()
	d.next = err
	d.mu.Unlock()
	_, got := d.h(ctx, op)
	return got
}

func (d *driver) run(err error, n int) {
	for range n {
		_ = d.call(context.Background(), err)
	}
}

func (d *driver) want(state breaker.State, reached int, transitions ...string) {
	d.t.Helper()
	if s := d.b.State(); s != state {
		d.t.Fatalf("state = %v, want %v", s, state)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.reached != reached {
		d.t.Fatalf("calls reaching the handler = %d, want %d", d.reached, reached)
	}
	if len(d.transitions) != len(transitions) {
		d.t.Fatalf("transitions = %v, want %v", d.transitions, transitions)
	}
	for i := range transitions {
		if d.transitions[i] != transitions[i] {
			d.t.Fatalf("transitions = %v, want %v", d.transitions, transitions)
		}
	}
}

func wantOpen(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, breaker.ErrOpen) || !errors.Is(err, ops.ErrRejected) || !ops.HasCode(err, ops.CodeCircuitOpen) ||
		errors.Is(err, ops.ErrUnavailable) {
		t.Fatalf("want an open-breaker rejection, got %v", err)
	}
	var e *ops.Error
	if !errors.As(err, &e) || e.Operation != "kv.get" {
		t.Fatalf("rejection must name the operation: %#v", err)
	}
}

func TestOpensAfterConfiguredFailures(t *testing.T) {
	d := newDriver(t, breaker.Settings{Failures: 3, Timeout: time.Hour})
	d.run(down, 2)
	d.want(breaker.StateClosed, 2)
	if err := d.call(context.Background(), down); !errors.Is(err, down) {
		t.Fatalf("the tripping call returns its own error: %v", err)
	}
	d.want(breaker.StateOpen, 3, "closed>open")
	for range 10 {
		wantOpen(t, d.call(context.Background(), nil))
	}
	d.want(breaker.StateOpen, 3, "closed>open") // nothing sent while open
}

func TestOnlyUnavailableCounts(t *testing.T) {
	d := newDriver(t, breaker.Settings{Failures: 3, Timeout: time.Hour})
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	d.run(down, 2)
	d.run(replyErr, 1) // Redis answered: a success, resets the run of failures
	d.run(down, 2)
	d.run(nil, 1) // a miss is a success
	d.run(down, 2)
	d.run(invalid, 5)  // never reached Redis: excluded
	d.run(closed, 5)   // rejected: excluded
	d.run(timedOut, 5) // deadline: excluded
	for range 5 {
		_ = d.call(canceled, down) // the caller gave up: excluded
	}
	d.want(breaker.StateClosed, 28)
	d.run(down, 1) // the third consecutive failure: exclusions did not reset the run
	d.want(breaker.StateOpen, 29, "closed>open")
}

func TestHalfOpenProbesClose(t *testing.T) {
	// A one-nanosecond open timeout: the call after the trip finds the breaker half-open.
	d := newDriver(t, breaker.Settings{Failures: 2, Timeout: time.Nanosecond, Probes: 2})
	d.run(down, 2)
	d.want(breaker.StateHalfOpen, 2, "closed>open", "open>half-open")
	d.run(nil, 1)
	d.want(breaker.StateHalfOpen, 3, "closed>open", "open>half-open")
	d.run(nil, 1) // the second consecutive successful probe closes it
	d.want(breaker.StateClosed, 4, "closed>open", "open>half-open", "half-open>closed")
}

func TestHalfOpenProbeFailureReopens(t *testing.T) {
	d := newDriver(t, breaker.Settings{Failures: 1, Timeout: time.Nanosecond, Probes: 3})
	d.run(down, 1)
	d.run(nil, 1)
	d.run(down, 1)
	d.want(breaker.StateHalfOpen, 3, "closed>open", "open>half-open", "half-open>open", "open>half-open")
}

func TestHalfOpenLimitsProbesInFlight(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	b := breaker.New(breaker.Settings{Failures: 1, Timeout: time.Nanosecond, Probes: 1})
	var mu sync.Mutex
	var next error = down
	h := b.Middleware()(func(context.Context, ops.Op) (ops.Result, error) {
		mu.Lock()
		err := next
		mu.Unlock()
		if err == nil {
			entered <- struct{}{}
			<-release
		}
		return ops.Result{}, err
	})
	_, _ = h(context.Background(), op) // trips
	mu.Lock()
	next = nil
	mu.Unlock()
	done := make(chan error)
	go func() { _, err := h(context.Background(), op); done <- err }() // the one probe
	<-entered
	_, err := h(context.Background(), op)
	wantOpen(t, err)
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if b.State() != breaker.StateClosed {
		t.Fatalf("state = %v", b.State())
	}
}

func TestOnStateChangeMayCallState(t *testing.T) {
	var b *breaker.Breaker
	var seen []breaker.State
	b = breaker.New(breaker.Settings{Failures: 1, Timeout: time.Hour,
		OnStateChange: func(string, breaker.State, breaker.State) { seen = append(seen, b.State()) }})
	h := b.Middleware()(func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{}, down })
	_, _ = h(context.Background(), op)
	if len(seen) != 1 || seen[0] != breaker.StateOpen {
		t.Fatalf("seen = %v", seen)
	}
}

func TestConcurrentTransitionsDeliveredInOrder(t *testing.T) {
	var mu sync.Mutex
	var last breaker.State
	var n int
	b := breaker.New(breaker.Settings{Failures: 1, Timeout: time.Nanosecond,
		OnStateChange: func(_ string, from, to breaker.State) {
			mu.Lock()
			defer mu.Unlock()
			if n > 0 && from != last {
				t.Errorf("transition from %v delivered after one to %v", from, last)
			}
			last, n = to, n+1
		}})
	var flip sync.Mutex
	i := 0
	h := b.Middleware()(func(context.Context, ops.Op) (ops.Result, error) {
		flip.Lock()
		defer flip.Unlock()
		i++
		if i%2 == 0 {
			return ops.Result{}, down
		}
		return ops.Result{}, nil
	})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 500 {
				_, _ = h(context.Background(), op)
			}
		})
	}
	wg.Wait()
	_ = b.State()
	mu.Lock()
	defer mu.Unlock()
	if n == 0 {
		t.Fatal("no transitions")
	}
}

func TestDefaults(t *testing.T) {
	b := breaker.New(breaker.Settings{})
	if b.Name() != "redis" || b.State() != breaker.StateClosed {
		t.Fatalf("name %q state %v", b.Name(), b.State())
	}
	h := b.Middleware()(func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{}, down })
	for range 4 {
		_, _ = h(context.Background(), op)
	}
	if b.State() != breaker.StateClosed {
		t.Fatal("opened before 5 failures")
	}
	_, _ = h(context.Background(), op)
	if b.State() != breaker.StateOpen {
		t.Fatal("not open after 5 failures")
	}
}

func BenchmarkBreakerClosed(b *testing.B) {
	h := breaker.New(breaker.Settings{}).Middleware()(func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{}, nil })
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = h(ctx, op)
	}
}

func BenchmarkBreakerOpenRejection(b *testing.B) {
	br := breaker.New(breaker.Settings{Failures: 1, Timeout: time.Hour})
	h := br.Middleware()(func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{}, down })
	ctx := context.Background()
	_, _ = h(ctx, op)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = h(ctx, op)
	}
}
