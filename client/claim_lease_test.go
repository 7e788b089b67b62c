package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
)

// TestClaimTryLeaseLeavesNoFenceKey: a TryLease excludes other holders like Claim.Once, can be
// held (renewed) and released like an Acquire lease, and writes nothing but its claim key, so a
// cache loading ever-new keys leaves nothing behind.
func TestClaimTryLeaseLeavesNoFenceKey(t *testing.T) {
	srv := redistest.Start(t)
	env := newLeaseEnv(t, srv.Client(t))
	ctx := context.Background()

	l, err := env.st.Claim.TryLease(ctx, "load:1", 200*time.Millisecond)
	if err != nil || l == nil {
		t.Fatalf("TryLease = %v, %v; want a lease", l, err)
	}
	if l.Fence() != 0 {
		t.Fatalf("Fence = %d, want 0 (no fencing counter)", l.Fence())
	}
	if other, err := env.st.Claim.TryLease(ctx, "load:1", time.Second); other != nil || err != nil {
		t.Fatalf("second TryLease = %v, %v; want nil, nil while held", other, err)
	}
	if got, err := env.st.Claim.Once(ctx, "load:1", "w", time.Second); got || err != nil {
		t.Fatalf("Claim.Once on a held TryLease = %v, %v; want false", got, err)
	}
	// Hold renews the 200 ms lease: the key's TTL only falls between extensions, so a sample
	// above the one before it is an extension.
	err = l.Hold(ctx, func(ctx context.Context) error {
		prev := env.rdb.PTTL(ctx, claimKey("load:1")).Val()
		for {
			cur := env.rdb.PTTL(ctx, claimKey("load:1")).Val()
			if cur > prev {
				return nil
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			prev = cur
		}
	})
	if err != nil {
		t.Fatalf("Hold: %v", err)
	}
	keys := env.rdb.Keys(ctx, "*").Val()
	if len(keys) != 0 {
		t.Fatalf("after Hold released the lease, Redis holds %v; want nothing (no fence key)", keys)
	}
	if _, err := env.st.Claim.TryLease(ctx, "", time.Second); !ops.HasCode(err, ops.CodeKeyRequired) {
		t.Fatalf("empty key: %v", err)
	}
	if _, err := env.st.Claim.TryLease(ctx, "k", 0); !ops.HasCode(err, ops.CodeTTLInvalid) {
		t.Fatalf("zero ttl: %v", err)
	}
}
