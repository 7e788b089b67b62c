package client_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
)

// TestLeaseHoldCancelsWhenRedisIsGone: with the server dead, no extension succeeds; once the
// lease may have expired unseen, the watchdog cancels fn's ctx with STORE_LEASE_LOST wrapping
// the last failure.
func TestLeaseHoldCancelsWhenRedisIsGone(t *testing.T) {
	srv := redistest.Start(t)
	env := newLeaseEnv(t, srv.Client(t))
	ctx := context.Background()
	ctxs := make(chan context.Context, 1)
	holdErr := make(chan error, 1)
	go func() {
		holdErr <- env.st.Claim.Hold(ctx, "k", 600*time.Millisecond, func(ctx context.Context) error {
			ctxs <- ctx
			<-ctx.Done()
			return nil
		})
	}()
	fnCtx := <-ctxs
	srv.Kill()
	select {
	case <-fnCtx.Done():
	case <-time.After(30 * time.Second): // generous: only a hang reaches it
		t.Fatal("Hold did not cancel its ctx with Redis gone")
	}
	cause := context.Cause(fnCtx)
	// The cause wraps the last failed extension: refused, or cut off at the lease's expiry.
	if !ops.HasCode(cause, ops.CodeLeaseLost) || !(errors.Is(cause, ops.ErrUnavailable) || errors.Is(cause, context.DeadlineExceeded)) {
		t.Fatalf("cause: want STORE_LEASE_LOST wrapping the failed extension, got %v", cause)
	}
	if err := <-holdErr; !ops.HasCode(err, ops.CodeLeaseLost) {
		t.Fatalf("Hold: want STORE_LEASE_LOST, got %v", err)
	}
}

// TestLeaseAcquireIsSafeToRetry: an acquisition sent twice (a retry after a lost reply) holds
// the lease once, with one fencing token.
func TestLeaseAcquireIsSafeToRetry(t *testing.T) {
	srv := redistest.Start(t)
	var first ops.Result
	twice := func(next ops.Handler) ops.Handler {
		return func(ctx context.Context, op ops.Op) (ops.Result, error) {
			if op.Kind != ops.LeaseAcquire {
				return next(ctx, op)
			}
			if !op.Idempotent {
				t.Error("lease.acquire is not marked idempotent")
			}
			var err error
			if first, err = next(ctx, op); err != nil {
				return first, err
			}
			return next(ctx, op)
		}
	}
	env := newLeaseEnv(t, srv.Client(t), twice)
	ctx := context.Background()
	l, err := env.st.Claim.Acquire(ctx, "r", time.Minute, client.AcquireOptions{})
	if err != nil {
		t.Fatalf("a retried acquisition failed: %v", err)
	}
	if !first.Bool || first.Int != l.Fence() {
		t.Fatalf("first attempt %+v, lease fence %d", first, l.Fence())
	}
	if n, _ := env.rdb.Get(ctx, client.LeaseFenceKey("igniter:store:api:claim:r")).Int64(); n != l.Fence() {
		t.Fatalf("fence counter %d, lease fence %d: the retry incremented it again", n, l.Fence())
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
}
