package retry

import (
	"context"
	"errors"
	"time"

	"github.com/igniter-go/store/ops"
)

// Policy configures [New]. The zero value does not retry.
type Policy struct {
	// MaxAttempts is the number of attempts, counting the first. 0 or 1 means no retry.
	// default: 0 (off); [DefaultPolicy]: 3.
	MaxAttempts int
	// Backoff is the wait before each retry; the wait ends early when the context is done.
	// default: nil (retry at once); [DefaultPolicy]: Exponential(10ms, 250ms), full jitter.
	Backoff BackoffFunc
	// Budget caps retries at a ratio of requests. default: nil (no cap); [DefaultPolicy]:
	// NewBudget(0.1, 10), retries ≤ 10% of requests plus a burst of 10.
	Budget *Budget
	// Retryable decides whether a failed attempt is retried. default: [DefaultRetryable].
	Retryable func(Attempt) bool
	// OnRetry is called before each retry's backoff, with the attempt that failed. default: nil.
	OnRetry func(ctx context.Context, a Attempt)
	// OnBudgetExhausted is called when a retry was due but the budget was spent. default: nil.
	OnBudgetExhausted func(ctx context.Context, a Attempt)
}

// DefaultPolicy returns the recommended policy: 3 attempts, full-jitter exponential backoff from
// 10ms up to 250ms, and a budget of retries ≤ 10% of requests (burst 10). Each call returns a
// new Budget.
func DefaultPolicy() Policy {
	return Policy{
		MaxAttempts: 3,
		Backoff:     Exponential(10*time.Millisecond, 250*time.Millisecond),
		Budget:      NewBudget(0.1, 10),
	}
}

// Attempt describes a failed attempt, for [Policy.Retryable] and the callbacks.
type Attempt struct {
	// Op is the operation.
	Op ops.Op
	// Number is the attempt that failed: 1 for the first try.
	Number int
	// Idempotent reports whether the Op may run twice: Op.Idempotent, or the call's context
	// was marked with [Idempotent].
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
// an EXPIRE). Never mark counter increments: a retry after a lost reply counts twice.
func Idempotent(ctx context.Context) context.Context {
	return context.WithValue(ctx, idempotentKey{}, true)
}

// IsIdempotent reports whether ctx was marked with [Idempotent].
func IsIdempotent(ctx context.Context) bool {
	v, _ := ctx.Value(idempotentKey{}).(bool)
	return v
}

// New returns the retry middleware for p. With p.MaxAttempts ≤ 1 it is the identity.
func New(p Policy) ops.Middleware {
	if p.MaxAttempts <= 1 {
		return func(next ops.Handler) ops.Handler { return next }
	}
	if p.Retryable == nil {
		p.Retryable = DefaultRetryable
	}
	return func(next ops.Handler) ops.Handler {
		return func(ctx context.Context, op ops.Op) (ops.Result, error) {
			if p.Budget != nil {
				p.Budget.request()
			}
			res, err := next(ctx, op)
			for n := 1; err != nil && n < p.MaxAttempts; n++ {
				a := Attempt{Op: op, Number: n, Idempotent: op.Idempotent || IsIdempotent(ctx), Err: err}
				if ctx.Err() != nil || !p.Retryable(a) {
					break
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
				if !wait(ctx, p.Backoff, n) {
					break // ctx done during the backoff: the last attempt's error stands
				}
				res, err = next(ctx, op)
			}
			return res, err
		}
	}
}

// wait sleeps for the backoff before retry n, and reports false if ctx ended first.
func wait(ctx context.Context, backoff BackoffFunc, n int) bool {
	var d time.Duration
	if backoff != nil {
		d = backoff(n)
	}
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
