package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/faultproxy"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
)

// TestLeaseHoldCancelsOnAStalledConnection: the connection goes silent (no error, no reply). An
// extension waits until its deadline (ContextTimeoutEnabled, which Build requires, puts the ctx
// deadline on the socket) and the watchdog cancels fn's ctx before the lease can expire, so no
// other holder can overlap fn's work.
func TestLeaseHoldCancelsOnAStalledConnection(t *testing.T) {
	srv := redistest.Start(t)
	proxy := faultproxy.Start(t, srv.Addr)
	rdb := redis.NewClient(&redis.Options{Addr: proxy.Addr, MaxRetries: -1, ContextTimeoutEnabled: true, PoolSize: 1})
	st, err := client.New().WithService("api").WithAdapter(client.Redis(rdb, client.OwnClient())).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const ttl = 600 * time.Millisecond
	ctx := context.Background()
	sent := time.Now()
	lease, err := st.Claim.Acquire(ctx, "k", ttl, client.AcquireOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cancelled := make(chan time.Time, 1)
	held := make(chan error, 1)
	go func() {
		held <- lease.Hold(ctx, func(ctx context.Context) error {
			proxy.Freeze() // every connection open now goes silent (the pool holds one)
			<-ctx.Done()
			cancelled <- time.Now()
			return nil
		})
	}()
	var at time.Time
	select {
	case at = <-cancelled:
	case <-time.After(30 * time.Second): // only a hang reaches it
		t.Fatal("Hold did not cancel fn's ctx on a stalled connection")
	}
	if expiry := sent.Add(ttl); !at.Before(expiry) {
		t.Errorf("fn's ctx was cancelled %v after the lease could have expired", at.Sub(expiry))
	}
	if err := <-held; !ops.HasCode(err, ops.CodeLeaseLost) {
		t.Errorf("Hold: want STORE_LEASE_LOST, got %v", err)
	}
}
