package telemetry

import (
	"context"
	"errors"

	"github.com/igniter-go/store/ops"
)

// outcomeTargets are the categories of ops.Outcome, in its order of precedence.
var outcomeTargets = [...]struct {
	target  error
	outcome string
}{
	{ops.ErrInvalid, "invalid"},
	{ops.ErrNotFound, "not_found"},
	{ops.ErrUnavailable, "unavailable"},
	{ops.ErrRejected, "rejected"},
	{ops.ErrConflict, "conflict"},
	{ops.ErrCanceled, "canceled"},
	{context.Canceled, "canceled"},
	{context.DeadlineExceeded, "canceled"},
}

// Outcome is ops.Outcome without its allocations for the errors the store returns: an
// *ops.Error is classified from its Category and cause directly, where errors.Is would make a
// slice for each category it tries (ops.Error unwraps to two errors). Any other error goes to
// ops.Outcome. It returns ok, invalid, not_found, unavailable, rejected, conflict, canceled or
// error.
func Outcome(err error) string {
	if err == nil {
		return "ok"
	}
	e, ok := err.(*ops.Error)
	if !ok {
		return ops.Outcome(err)
	}
	for _, t := range outcomeTargets {
		if (e.Category != nil && errors.Is(e.Category, t.target)) || (e.Err != nil && errors.Is(e.Err, t.target)) {
			return t.outcome
		}
	}
	return "error"
}
