package breaker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/igniter-go/store/ops"
)

// State is the breaker's state: [StateClosed], [StateHalfOpen] or [StateOpen]. Its String is
// "closed", "half-open" or "open".
type State = gobreaker.State

// The states.
const (
	StateClosed   = gobreaker.StateClosed
	StateHalfOpen = gobreaker.StateHalfOpen
	StateOpen     = gobreaker.StateOpen
)

// ErrOpen is the cause of every call the breaker rejects: errors.Is(err, breaker.ErrOpen)
// matches them, and so do errors.Is(err, ops.ErrRejected) and
// ops.HasCode(err, ops.CodeCircuitOpen).
var ErrOpen = fmt.Errorf("circuit breaker is open: %w", ops.ErrRejected)

// Outcome is how a call counts for the breaker.
type Outcome uint8

// The outcomes.
const (
	Success  Outcome = iota // Redis answered
	Failure                 // Redis was unavailable
	Excluded                // counts for nothing (the call never reached Redis, or its caller gave up)
)

// Settings configures [New]. Zero fields mean their defaults, whatever else is set:
// Settings{Failures: 2} still stays open 1s and lets 1 probe through.
type Settings struct {
	// Name names the breaker in transitions and telemetry. default: "redis".
	Name string
	// Failures is the number of consecutive failures that opens the breaker. default: 5.
	Failures uint32
	// Timeout is how long the breaker stays open before it lets probes through. default: 1s.
	Timeout time.Duration
	// Probes is the number of calls let through while half-open; that many consecutive
	// successes close the breaker, one failure opens it again. default: 1.
	Probes uint32
	// Interval clears the closed state's counts periodically; 0 never clears them, so only
	// consecutive failures matter. default: 0.
	Interval time.Duration
	// Classify decides how a call counts. default: [Classify].
	Classify func(ctx context.Context, err error) Outcome
	// OnStateChange is called on every transition, outside the breaker's lock. default: nil.
	OnStateChange func(name string, from, to State)
}

// Classify is the default classification: [ops.ErrUnavailable] is a failure; a done context,
// a context error, [ops.ErrInvalid] and [ops.ErrRejected] are excluded; everything else (no
// error, a miss, a Redis error reply, a conflict) is a success.
func Classify(ctx context.Context, err error) Outcome {
	switch {
	case err == nil:
		return Success
	case ctx.Err() != nil, errors.Is(err, ops.ErrCanceled), errors.Is(err, context.Canceled),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, ops.ErrInvalid), errors.Is(err, ops.ErrRejected):
		return Excluded
	case errors.Is(err, ops.ErrUnavailable):
		return Failure
	}
	return Success
}

// Breaker is a circuit breaker over gobreaker's TwoStepCircuitBreaker.
type Breaker struct {
	cb       *gobreaker.TwoStepCircuitBreaker[struct{}]
	name     string
	classify func(context.Context, error) Outcome
	onChange func(name string, from, to State)

	// Transitions happen under gobreaker's lock; they are queued there and delivered by flush,
	// outside it, so OnStateChange may call State.
	mu        sync.Mutex
	pending   []transition
	npending  atomic.Int32
	deliverMu sync.Mutex

	// The closed-state fast path (fastpath.go). clean means: closed, and no failure counted
	// since the last success; a success then changes nothing gobreaker decides on, so a call
	// that succeeds is not reported to it (no lock, no clock read). cleanMu serialises every
	// write of clean with the gobreaker report it follows, so clean never outlives the state
	// it describes.
	clean   atomic.Bool
	cleanMu sync.Mutex
}

type transition struct{ from, to State }

// sentinels handed to gobreaker for the outcome of a call.
var (
	errFailure  = errors.New("breaker: failure")
	errExcluded = errors.New("breaker: excluded")
)

// New returns a breaker configured by s.
func New(s Settings) *Breaker {
	b := &Breaker{name: s.Name, classify: s.Classify, onChange: s.OnStateChange}
	if b.name == "" {
		b.name = "redis"
	}
	if b.classify == nil {
		b.classify = Classify
	}
	failures := s.Failures
	if failures == 0 {
		failures = 5
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = time.Second
	}
	b.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:         b.name,
		MaxRequests:  max(s.Probes, 1),
		Interval:     s.Interval,
		Timeout:      timeout,
		ReadyToTrip:  func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= failures },
		IsSuccessful: func(err error) bool { return err == nil },
		IsExcluded:   func(err error) bool { return err == errExcluded },
		OnStateChange: func(_ string, from, to State) {
			b.mu.Lock()
			b.pending = append(b.pending, transition{from, to})
			b.npending.Add(1)
			b.mu.Unlock()
		},
	})
	b.clean.Store(true)
	return b
}

// Name returns the breaker's name.
func (b *Breaker) Name() string { return b.name }

// State returns the breaker's state. An open breaker whose timeout has passed reports
// half-open.
func (b *Breaker) State() State {
	s := b.cb.State()
	b.flush()
	return s
}

// Middleware returns the middleware that guards next with the breaker. A panic below it (a
// middleware under it, the executor) counts as a failure and is re-raised.
func (b *Breaker) Middleware() ops.Middleware {
	return func(next ops.Handler) ops.Handler {
		return func(ctx context.Context, op ops.Op) (ops.Result, error) {
			if b.clean.Load() {
				return b.callClean(ctx, op, next)
			}
			done, err := b.cb.Allow()
			if err != nil {
				b.flush()
				msg := "the call was not sent"
				if errors.Is(err, gobreaker.ErrTooManyRequests) {
					msg = "half-open, probes in flight; the call was not sent"
				}
				return ops.Result{}, ops.NewError(ops.CodeCircuitOpen, op.Kind.Operation(), msg, ErrOpen)
			}
			return b.call(ctx, op, next, done)
		}
	}
}

// call runs next and reports its outcome with done. A panic below the breaker (a Use()
// middleware, the executor) counts as a failure and is re-raised: without that, a panicking
// half-open probe would use up the only probe and leave the breaker half-open for good.
func (b *Breaker) call(ctx context.Context, op ops.Op, next ops.Handler, done func(error)) (res ops.Result, err error) {
	finished := false
	defer func() {
		if !finished {
			b.settle(func() { done(errFailure) })
		}
	}()
	res, err = next(ctx, op)
	outcome := b.classify(ctx, err) // a panicking Classify counts as a failure too
	finished = true
	b.settle(func() { done(outcomeErr(outcome)) })
	return res, err
}

// outcomeErr is what gobreaker is told for an outcome.
func outcomeErr(o Outcome) error {
	switch o {
	case Success:
		return nil
	case Failure:
		return errFailure
	}
	return errExcluded
}

// flush delivers queued transitions in order. Only one goroutine delivers at a time; one that
// finds another delivering leaves its transitions to it (which also makes a nested State call
// from OnStateChange safe).
func (b *Breaker) flush() {
	for b.npending.Load() > 0 {
		if !b.deliverMu.TryLock() {
			return
		}
		b.mu.Lock()
		batch := b.pending
		b.pending = nil
		b.npending.Store(0)
		b.mu.Unlock()
		if b.onChange != nil {
			for _, t := range batch {
				b.onChange(b.name, t.from, t.to)
			}
		}
		b.deliverMu.Unlock()
	}
}
