package timeout_test

import (
	"context"
	"errors"
	"testing"

	"github.com/igniter-go/store/middleware/timeout"
	"github.com/igniter-go/store/ops"
)

// A panic below the timeout middleware reaches the caller, and leaves nothing behind: the
// deadline context it made for a cancelable caller is canceled (its timer stopped), and the
// shared deadline of an uncancelable caller still serves the next call.
func TestPanicBelowTimeoutIsReraisedAndReleasesItsContext(t *testing.T) {
	var seen context.Context
	panicking := true
	h := timeout.New(timeout.Default)(func(ctx context.Context, _ ops.Op) (ops.Result, error) {
		seen = ctx
		if panicking {
			panic("boom")
		}
		return ops.Result{}, ctx.Err()
	})
	call := func(ctx context.Context) (r any) {
		defer func() { r = recover() }()
		_, _ = h(ctx, ops.Op{Kind: ops.KVGet})
		return nil
	}
	parent, cancel := context.WithCancel(context.Background())
	defer cancel()
	if r := call(parent); r != "boom" {
		t.Fatalf("recovered %v", r)
	}
	if !errors.Is(seen.Err(), context.Canceled) || parent.Err() != nil {
		t.Fatalf("the per-call deadline context must be canceled by the panic's unwinding: %v (parent %v)", seen.Err(), parent.Err())
	}
	if r := call(context.Background()); r != "boom" {
		t.Fatalf("recovered %v", r)
	}
	panicking = false
	if _, err := h(context.Background(), ops.Op{Kind: ops.KVGet}); err != nil {
		t.Fatalf("the shared deadline after a panic: %v", err)
	}
}
