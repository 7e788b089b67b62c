package timeout

import (
	"context"
	"time"

	"github.com/igniter-go/store/ops"
)

// Default is the deadline the client's builder gives operations whose context has none.
const Default = 5 * time.Second

// New returns a middleware that runs each Op whose context has no deadline with one d from
// now (plus the block time of a blocking stream read). d ≤ 0 returns the identity.
//
// The common case — a context that can never be canceled, such as context.Background() or a
// value-only child of it — shares one timer among all operations that start within the same
// [Granularity] window (one of a few, to spread the waiters), so the deadline costs no clock
// read and no allocation for a context.Background() parent (one small allocation for another)
// instead of a timer per operation; such a deadline falls between d and d+Granularity from the
// call. Other contexts get context.WithTimeout.
func New(d time.Duration) ops.Middleware {
	if d <= 0 {
		return func(next ops.Handler) ops.Handler { return next }
	}
	windows := &windows{d: d}
	return func(next ops.Handler) ops.Handler {
		return func(ctx context.Context, op ops.Op) (ops.Result, error) {
			if _, ok := ctx.Deadline(); ok {
				return next(ctx, op)
			}
			if ctx.Done() == nil && (op.Stream == nil || op.Stream.Block <= 0) {
				return next(windows.current().contextFor(ctx), op)
			}
			limit := d
			if op.Stream != nil && op.Stream.Block > 0 {
				limit += op.Stream.Block
			}
			ctx, cancel := context.WithTimeout(ctx, limit)
			defer cancel()
			return next(ctx, op)
		}
	}
}
