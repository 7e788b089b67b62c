package schema

import (
	"context"
	"encoding/json"

	"github.com/igniter-go/store/ops"
)

// Lookup returns the schema registered for exactly this event string, or false.
type Lookup func(event string) (Schema, bool)

// Options configure [New]. Zero fields mean their defaults, and the zero value is the
// original's default: validate every publish and fail it when the payload is invalid.
type Options struct {
	// Lenient publishes an invalid payload instead of failing (the original's
	// throwOnValidationError: false). OnInvalid still sees it. Default: false.
	Lenient bool
	// OnInvalid, when set, is called with every invalid payload's error (a
	// STORE_SCHEMA_VALIDATION_FAILED *ops.Error), before the publish fails or, when Lenient,
	// goes on. Default: nil.
	OnInvalid func(ctx context.Context, op ops.Op, err error)
}

// New returns the middleware that validates the payload of every [ops.EventsPublish] Op whose Name has a schema.
// The payload is the "data" member of the envelope in Op.Value. Other kinds, and events with no
// schema, pass untouched. An invalid payload fails with [Failed] and the rest of the chain
// (and Redis) is not called.
func New(lookup Lookup, opts Options) ops.Middleware {
	return func(next ops.Handler) ops.Handler {
		return func(ctx context.Context, op ops.Op) (ops.Result, error) {
			if op.Kind != ops.EventsPublish || lookup == nil {
				return next(ctx, op)
			}
			s, ok := lookup(op.Name)
			if !ok || s == nil {
				return next(ctx, op)
			}
			issues := s.Validate(dataOf(op.Value))
			if len(issues) == 0 {
				return next(ctx, op)
			}
			err := Failed(op.Kind.Operation(), op.Name, issues)
			if opts.OnInvalid != nil {
				opts.OnInvalid(ctx, op, err)
			}
			if opts.Lenient {
				return next(ctx, op)
			}
			return ops.Result{}, err
		}
	}
}

// dataOf returns the "data" member of an envelope, or the value itself when it is not an
// envelope (a publish built by other means).
func dataOf(value []byte) []byte {
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(value, &env); err != nil || env.Data == nil {
		return value
	}
	return env.Data
}
