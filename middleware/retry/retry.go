package retry

import (
	"context"
	"errors"
	"time"

	"github.com/igniter-go/store/ops"
)

// Policy configures [New]. Zero fields mean their defaults, so the zero value is
// [DefaultPolicy] and Policy{MaxAttempts: 5} keeps the default backoff and budget. Turn a part
// off explicitly: MaxAttempts 1 (no retry), Backoff [NoBackoff] (retry at once), NoBudget.
type Policy struct {
	// MaxAttempts is the number of attempts, counting the first. 1 (or less than 0) means no
	// retry. default (0): 3.
	MaxAttempts int
	// Backoff is the wait before each retry; the wait ends early when the context is done.
	// [NoBackoff] retries at once. default (nil): Exponential(10ms, 250ms), full jitter.
	Backoff BackoffFunc
	// Budget caps retries at a ratio of requests; share one Budget to give several middlewares
	// one limit. default (nil): NewBudget(0.1, 10) — retries ≤ 10% of requests plus a burst of
	// 10 — made by New, so each New (each store Build) has its own.
	Budget *Budget
	// NoBudget turns the budget off: retries are capped only by MaxAttempts. It overrides
	// Budget. default: false.
	NoBudget bool
	// MinAttemptTime is the least time an attempt needs: a retry starts only when at least this
	// much of the context's deadline is left after its backoff, and a backoff that would end
	// later is not waited (the last attempt's error is returned at once). The deadline is read
	// from the clock, not from ctx.Err, so an attempt never starts after it passed.
	// default (0): [DefaultMinAttemptTime]; negative: any time left is enough.
	MinAttemptTime time.Duration
	// Retryable decides whether a failed attempt is retried. default (nil): [DefaultRetryable].
	Retryable func(Attempt) bool
	// OnRetry is called before each retry's backoff, with the attempt that failed. default: nil.
	OnRetry func(ctx context.Context, a Attempt)
	// OnBudgetExhausted is called when a retry was due but the budget was spent. default: nil.
	OnBudgetExhausted func(ctx context.Context, a Attempt)
}

// The defaults of [Policy]'s zero fields.
const (
	DefaultMaxAttempts = 3
	DefaultBackoffBase = 10 * time.Millisecond
	DefaultBackoffMax  = 250 * time.Millisecond
	DefaultBudgetRatio = 0.1
	DefaultBudgetBurst = 10
	// DefaultMinAttemptTime is the default [Policy.MinAttemptTime]: a round trip on a fresh
	// connection (dial and handshake) in one data centre, with room to spare.
	DefaultMinAttemptTime = 10 * time.Millisecond
)

// DefaultPolicy returns the defaults spelled out: 3 attempts, full-jitter exponential backoff
// from 10ms up to 250ms, a budget of retries ≤ 10% of requests (burst 10), and no retry with less
// than 10ms of the deadline left. New(Policy{}) behaves the same. Each call returns a new Budget.
func DefaultPolicy() Policy {
	return Policy{
		MaxAttempts:    DefaultMaxAttempts,
		Backoff:        Exponential(DefaultBackoffBase, DefaultBackoffMax),
		Budget:         NewBudget(DefaultBudgetRatio, DefaultBudgetBurst),
		MinAttemptTime: DefaultMinAttemptTime,
	}
}

// Enabled reports whether [New] of p retries at all (MaxAttempts is 0 or above 1).
func (p Policy) Enabled() bool { return p.MaxAttempts == 0 || p.MaxAttempts > 1 }

// WithDefaults returns p with its zero fields filled with their defaults, as [New] uses it.
// The Budget it makes, when p has none, is new on each call.
func (p Policy) WithDefaults() Policy {
	if p.MaxAttempts == 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.Backoff == nil {
		p.Backoff = Exponential(DefaultBackoffBase, DefaultBackoffMax)
	}
	switch {
	case p.NoBudget:
		p.Budget = nil
	case p.Budget == nil:
		p.Budget = NewBudget(DefaultBudgetRatio, DefaultBudgetBurst)
	}
	switch {
	case p.MinAttemptTime == 0:
		p.MinAttemptTime = DefaultMinAttemptTime
	case p.MinAttemptTime < 0:
		p.MinAttemptTime = 0
	}
	if p.Retryable == nil {
		p.Retryable = DefaultRetryable
	}
	return p
}

// Attempt describes a failed attempt, for [Policy.Retryable] and the callbacks.
type Attempt struct {
	// Op is the operation.
	Op ops.Op
	// Number is the attempt that failed: 1 for the first try.
	Number int
	// Idempotent reports whether the Op may run twice: Op.Idempotent, or the call's context
	// was marked with [Idempotent] and the Op's kind is [ops.Kind.Repeatable].
	Idempotent bool
	// Err is the attempt's error.
	Err error
}

// DefaultRetryable retries idempotent operations that failed with [ops.ErrUnavailable], and
// nothing else: not context errors, invalid input, rejected calls (open breaker, closed store)
// or Redis error replies.
func DefaultRetryable(a Attempt) bool { return a.Idempotent && Transient(a.Err) }

// Transient reports whether err is a failure another attempt may fix: [ops.ErrUnavailable] and
// not a context error or a rejection.
func Transient(err error) bool {
	return errors.Is(err, ops.ErrUnavailable) &&
		!errors.Is(err, ops.ErrRejected) && !errors.Is(err, ops.ErrCanceled) &&
		!errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

type idempotentKey struct{}

// Idempotent returns a context that marks every operation called with it as safe to retry,
// for writes the caller knows are idempotent (a SET of a value that only this caller writes,
// an EXPIRE). The mark does not reach kinds that are not [ops.Kind.Repeatable] — counter
// changes, GCRA checks, claims, leases' acquire and release, SetIfAbsent, publishes, appends
// and group reads — which are never retried: a retried INCR counts twice, and a retried
// Claim.Once finds the caller's own claim and reports it not acquired. Those report a lost reply
// as STORE_OUTCOME_UNKNOWN instead.
func Idempotent(ctx context.Context) context.Context {
	return context.WithValue(ctx, idempotentKey{}, true)
}

// IsIdempotent reports whether ctx was marked with [Idempotent].
func IsIdempotent(ctx context.Context) bool {
	v, _ := ctx.Value(idempotentKey{}).(bool)
	return v
}

// New returns the retry middleware for p, its zero fields filled with their defaults. When p
// does not retry (MaxAttempts 1 or negative) it is the identity.
//
// A panic below retry (a middleware under it, the executor) goes up to the caller and ends the
// call: no attempt follows it, and the budget keeps the tokens of the retries that did run.
func New(p Policy) ops.Middleware {
	if !p.Enabled() {
		return func(next ops.Handler) ops.Handler { return next }
	}
	p = p.WithDefaults()
	return func(next ops.Handler) ops.Handler {
		return func(ctx context.Context, op ops.Op) (ops.Result, error) {
			if p.Budget != nil {
				p.Budget.request()
			}
			res, err := next(ctx, op)
			for n := 1; err != nil && n < p.MaxAttempts; n++ {
				a := Attempt{Op: op, Number: n, Idempotent: op.Idempotent || (IsIdempotent(ctx) && op.Kind.Repeatable()), Err: err}
				if ctx.Err() != nil || !p.Retryable(a) {
					break
				}
				var delay time.Duration
				if p.Backoff != nil {
					delay = p.Backoff(n)
				}
				if !covers(ctx, delay+p.MinAttemptTime) {
					break // the attempt could not finish before the deadline: the last error stands
				}
				if p.Budget != nil && !p.Budget.withdraw() {
					if p.OnBudgetExhausted != nil {
						p.OnBudgetExhausted(ctx, a)
					}
					return res, ops.NewError(ops.CodeRetryBudgetExhausted, op.Kind.Operation(),
						"retry budget exhausted; the last attempt failed", err)
				}
				if p.OnRetry != nil {
					p.OnRetry(ctx, a)
				}
				if !wait(ctx, delay) || !covers(ctx, p.MinAttemptTime) {
					break // ctx done, or the deadline too close, after the backoff: the last error stands
				}
				res, err = next(ctx, op)
			}
			return res, err
		}
	}
}

// covers reports whether at least need is left before ctx's deadline (always, without one). It
// reads the clock: a context's Done may close a little after its deadline (a shared timer, a
// loaded scheduler), and an attempt started in between would run past the deadline.
func covers(ctx context.Context, need time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return !ok || time.Until(deadline) >= need
}

// wait sleeps for d, and reports false if ctx ended first.
func wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
