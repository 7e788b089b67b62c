package timeout_test

import (
	"context"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"github.com/igniter-go/store/middleware/timeout"
	"github.com/igniter-go/store/ops"
)

// ioTimeout is what go-redis returns when a connection's deadline, set to the ctx deadline under
// ContextTimeoutEnabled, expires: a net.Error whose Timeout is true, not a context error.
type ioTimeout struct{}

func (ioTimeout) Error() string   { return "i/o timeout" }
func (ioTimeout) Timeout() bool   { return true }
func (ioTimeout) Temporary() bool { return true }
func (ioTimeout) Unwrap() error   { return os.ErrDeadlineExceeded }

// TestSocketTimeoutAtTheDeadlineIsStoreTimeoutExactlyOnce: an attempt that ends with an I/O
// timeout once the ctx deadline has passed is STORE_TIMEOUT wrapping context.DeadlineExceeded,
// whoever set the deadline and with the default deadline off; before the deadline, or for
// another cause, the error keeps its code. Before the fix a KV.Get on a silent server returned
// STORE_CONNECTION_FAILED at its deadline.
func TestSocketTimeoutAtTheDeadlineIsStoreTimeoutExactlyOnce(t *testing.T) {
	past := func() (context.Context, context.CancelFunc) {
		return context.WithDeadline(context.Background(), time.Now().Add(-time.Millisecond))
	}
	future := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), time.Hour)
	}
	sent := ops.NewError(ops.CodeOutcomeUnknown, "counter.increment", "reply lost", ioTimeout{})
	for _, tc := range []struct {
		name string
		d    time.Duration
		ctx  func() (context.Context, context.CancelFunc)
		err  error
		want ops.Code
	}{
		{"connection failed, deadline passed", time.Minute, past, ops.Failure(ops.KVGet, ops.ErrUnavailable, ioTimeout{}), ops.CodeTimeout},
		{"outcome unknown, deadline passed", time.Minute, past, sent, ops.CodeTimeout},
		{"default deadline off, caller's passed", 0, past, ops.Failure(ops.KVGet, ops.ErrUnavailable, ioTimeout{}), ops.CodeTimeout},
		{"deadline not passed: go-redis's ReadTimeout", time.Minute, future, ops.Failure(ops.KVGet, ops.ErrUnavailable, ioTimeout{}), ops.CodeConnectionFailed},
		{"deadline passed, not a timeout", time.Minute, past, ops.Failure(ops.KVGet, ops.ErrUnavailable, io.EOF), ops.CodeConnectionFailed},
		{"deadline passed, a reply error", time.Minute, past, ops.Failure(ops.KVGet, ops.ErrFailed, ioTimeout{}), ops.CodeGetFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := tc.ctx()
			defer cancel()
			_, err := timeout.New(tc.d)(func(context.Context, ops.Op) (ops.Result, error) {
				return ops.Result{}, tc.err
			})(ctx, ops.Op{Kind: ops.KVGet})
			if got := ops.CodeOf(err); got != tc.want {
				t.Fatalf("code %s, want %s: %v", got, tc.want, err)
			}
			if tc.want != ops.CodeTimeout {
				if err != tc.err {
					t.Fatalf("the error must be returned as it is: %v", err)
				}
				return
			}
			if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("a STORE_TIMEOUT wraps context.DeadlineExceeded and the I/O error: %v", err)
			}
			if errors.Is(err, ops.ErrUnavailable) || ops.Outcome(err) != "canceled" {
				t.Errorf("a STORE_TIMEOUT is ErrCanceled only (outcome %q): %v", ops.Outcome(err), err)
			}
		})
	}
}

// The default deadline (the shared window) is one too. It falls up to Granularity after d, so a
// socket timeout within Granularity of it is the deadline's: go-redis's ReadTimeout (5 s by
// default) fires up to 10 ms before the default deadline (5 s, timeout.Default) of a call to a
// silent server, and that call too must fail with STORE_TIMEOUT.
func TestSocketTimeoutAtTheDefaultDeadlineExactlyOnce(t *testing.T) {
	_, err := timeout.New(time.Millisecond)(func(ctx context.Context, op ops.Op) (ops.Result, error) {
		dl, _ := ctx.Deadline()
		time.Sleep(time.Until(dl) - timeout.Granularity) // a socket timer firing Granularity early
		return ops.Result{}, ops.Failure(op.Kind, ops.ErrUnavailable, ioTimeout{})
	})(context.Background(), ops.Op{Kind: ops.KVGet})
	if !ops.HasCode(err, ops.CodeTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}
