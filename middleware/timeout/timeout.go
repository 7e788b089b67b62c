package timeout

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/igniter-go/store/ops"
)

// Default is the deadline the client's builder gives operations whose context has none.
const Default = 5 * time.Second

// New returns a middleware that runs each Op whose context has no deadline with one d from
// now (plus the block time of a blocking stream read). d ≤ 0 gives no default deadline.
//
// The common case — a context that can never be canceled, such as context.Background() or a
// value-only child of it — shares one timer among all operations that start within the same
// [Granularity] window (one of a few, to spread the waiters), so the deadline costs no clock
// read and no allocation for a context.Background() parent (one small allocation for another)
// instead of a timer per operation; such a deadline falls between d and d+Granularity from the
// call. Other contexts get context.WithTimeout.
//
// Whoever set the deadline (the caller or this middleware), an operation that fails on a socket
// timeout once it has passed fails with STORE_TIMEOUT wrapping context.DeadlineExceeded; with
// d ≤ 0 that is all the middleware does.
func New(d time.Duration) ops.Middleware {
	if d <= 0 {
		return func(next ops.Handler) ops.Handler {
			return func(ctx context.Context, op ops.Op) (ops.Result, error) {
				return run(ctx, op, next, 0)
			}
		}
	}
	windows := &windows{d: d}
	return func(next ops.Handler) ops.Handler {
		return func(ctx context.Context, op ops.Op) (ops.Result, error) {
			if _, ok := ctx.Deadline(); ok {
				return run(ctx, op, next, 0)
			}
			if ctx.Done() == nil && (op.Stream == nil || op.Stream.Block <= 0) {
				// A shared deadline falls up to Granularity after d: a socket timeout in that
				// span (go-redis's ReadTimeout, 5 s by default, as timeout.Default) is the
				// deadline's.
				return run(windows.current().contextFor(ctx), op, next, Granularity)
			}
			limit := d
			if op.Stream != nil && op.Stream.Block > 0 {
				limit += op.Stream.Block
			}
			ctx, cancel := context.WithTimeout(ctx, limit)
			defer cancel()
			return run(ctx, op, next, 0)
		}
	}
}

// run runs op on next and maps its failure with expiredWithin.
func run(ctx context.Context, op ops.Op, next ops.Handler, slack time.Duration) (ops.Result, error) {
	res, err := next(ctx, op)
	if err != nil {
		err = expiredWithin(ctx, op, err, slack)
	}
	return res, err
}

// expiredWithin returns err as STORE_TIMEOUT when no more than slack is left of ctx's deadline
// (slack > 0 for a deadline known only to within slack, 0 for one that has passed) and err is
// an unavailable failure (STORE_CONNECTION_FAILED, STORE_OUTCOME_UNKNOWN) caused by a socket timeout: go-redis
// with ContextTimeoutEnabled sets a connection's deadline to the ctx deadline and reports its
// expiry as an I/O timeout, not as a context error. The STORE_TIMEOUT wraps
// context.DeadlineExceeded and that I/O error. Any other err is returned as it is: a failure
// before the deadline keeps its code, and so does a timeout of go-redis's own ReadTimeout that
// fires before it.
//
// A write that fails so may have been applied, as with every STORE_TIMEOUT: the deadline can
// pass after the command was written.
func expiredWithin(ctx context.Context, op ops.Op, err error, slack time.Duration) error {
	var coded *ops.Error
	if !errors.As(err, &coded) || coded.Category != ops.ErrUnavailable {
		return err
	}
	var netErr net.Error
	if !errors.As(err, &netErr) || !netErr.Timeout() {
		return err
	}
	deadline, ok := ctx.Deadline()
	if !ok || time.Until(deadline) > slack {
		return err
	}
	cause := coded.Err
	for {
		inner, ok := cause.(*ops.Error) // keep the I/O error, not another category
		if !ok {
			break
		}
		cause = inner.Err
	}
	if cause == nil {
		cause = netErr
	}
	return ops.NewError(ops.CodeTimeout, op.Kind.Operation(), "operation deadline exceeded",
		fmt.Errorf("%w: %w", context.DeadlineExceeded, cause))
}
