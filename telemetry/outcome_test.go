package telemetry_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/telemetry"
)

func TestOutcomeMatchesOpsOutcome(t *testing.T) {
	errs := []error{
		nil, io.EOF, context.Canceled, fmt.Errorf("w: %w", context.DeadlineExceeded),
		ops.Invalid(ops.CodeKeyRequired, "kv.get", "Key is required", nil),
		ops.Failure(ops.KVGet, ops.ErrUnavailable, io.EOF),
		ops.Failure(ops.KVGet, ops.ErrFailed, errors.New("WRONGTYPE")),
		ops.Failure(ops.KVGet, nil, context.Canceled),
		ops.Failure(ops.KVGet, nil, context.DeadlineExceeded),
		ops.NewError(ops.CodeCircuitOpen, "kv.get", "open", nil),
		ops.NewError(ops.CodeLeaseLost, "lease.extend", "lost", nil),
		ops.NewError(ops.CodeSchemaChannelNotFound, "events.publish", "none", nil),
		&ops.Error{Code: "X"},
		&ops.Error{Code: "X", Category: ops.ErrFailed, Err: ops.Invalid(ops.CodeTTLInvalid, "", "", nil)},
		&ops.Error{Code: "X", Category: ops.ErrUnavailable, Err: fmt.Errorf("%w", ops.ErrInvalid)},
		&ops.Error{Code: "X", Category: ops.ErrFailed, Err: context.Canceled},
		fmt.Errorf("wrapped: %w", ops.Failure(ops.KVGet, ops.ErrUnavailable, io.EOF)),
	}
	for i, err := range errs {
		if got, want := telemetry.Outcome(err), ops.Outcome(err); got != want {
			t.Errorf("%d %v: %s, ops.Outcome says %s", i, err, got, want)
		}
	}
}
