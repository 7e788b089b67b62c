package ops

import "context"

// Handler runs one Op and returns its Result. The Redis executor is a Handler, and so is every
// middleware-wrapped executor.
type Handler func(ctx context.Context, op Op) (Result, error)

// Middleware wraps a Handler with one concern (telemetry, validation, retry, breaking…).
type Middleware func(next Handler) Handler

// Chain composes middlewares into one. The first is the outermost: it sees the Op first and the
// Result last. Chain() with no arguments is the identity.
func Chain(mws ...Middleware) Middleware {
	return func(next Handler) Handler {
		for i := len(mws) - 1; i >= 0; i-- {
			if mws[i] != nil {
				next = mws[i](next)
			}
		}
		return next
	}
}

// When applies mw only to the Ops that match reports true for; other Ops skip it.
func When(match func(Op) bool, mw Middleware) Middleware {
	return func(next Handler) Handler {
		wrapped := mw(next)
		return func(ctx context.Context, op Op) (Result, error) {
			if match(op) {
				return wrapped(ctx, op)
			}
			return next(ctx, op)
		}
	}
}
