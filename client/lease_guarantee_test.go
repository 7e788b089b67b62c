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

// Redis restarts without persistence: the fence counter is gone. The next token must still be
// larger than every token issued before (it comes from Redis's clock), or fenced storage would
// keep a stalled old holder's writes and reject the new holder's.
func TestLeaseGuaranteeFenceGrowsAcrossDataLoss(t *testing.T) {
	srv := redistest.Start(t) // persistence off: Restart loses every key
	env := newLeaseEnv(t, srv.Client(t))
	ctx := context.Background()
	var last int64
	for range 3 {
		l, err := env.st.Claim.Acquire(ctx, "job", time.Minute, client.AcquireOptions{})
		if err != nil {
			t.Fatal(err)
		}
		last = l.Fence()
		if err := l.Release(ctx); err != nil {
			t.Fatal(err)
		}
	}
	srv.Restart()
	var l *client.Lease
	var err error
	for range 10 { // the pool's connections died with the server: the first calls may fail
		if l, err = env.st.Claim.Acquire(ctx, "job", time.Minute, client.AcquireOptions{}); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(ctx)
	if l.Fence() <= last {
		t.Fatalf("fence after Redis lost its data: %d, before: %d: want strictly larger", l.Fence(), last)
	}
}

// The acquire's reply arrives after the lease's TTL: the lease expired unseen and another owner
// holds the key with a larger fence. Hold must not run fn on the late lease (two holders at
// once), must leave the other owner's lease alone, and reports STORE_LEASE_LOST.
func TestLeaseGuaranteeHoldRefusesALateLease(t *testing.T) {
	const ttl = time.Second
	srv := redistest.Start(t)
	proxy := faultproxy.Start(t, srv.Addr)
	other := newLeaseEnv(t, srv.Client(t))
	ctx := context.Background()
	first, err := other.st.Claim.Acquire(ctx, "late", ttl, client.AcquireOptions{}) // caches the script, creates the counter
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Release(ctx); err != nil {
		t.Fatal(err)
	}
	// A long read timeout: the held reply must arrive late, not fail.
	slow := newLeaseEnv(t, redis.NewClient(&redis.Options{Addr: proxy.Addr, MaxRetries: -1, ReadTimeout: time.Minute, ContextTimeoutEnabled: true}))
	held, release := proxy.HoldReplyTo("evalsha")
	late := make(chan *client.Lease, 1)
	go func() {
		l, err := slow.st.Claim.Acquire(ctx, "late", ttl, client.AcquireOptions{})
		if err != nil {
			t.Error(err)
		}
		late <- l
	}()
	<-held // the slow acquire ran in Redis: it holds the lease without knowing it yet
	winner, err := other.st.Claim.Acquire(ctx, "late", time.Minute, client.AcquireOptions{Wait: time.Minute})
	if err != nil { // returns once the unseen lease expired
		t.Fatal(err)
	}
	defer winner.Release(ctx)
	release()
	l := <-late
	if l == nil {
		t.FailNow()
	}
	ran := false
	err = l.Hold(ctx, func(context.Context) error { ran = true; return nil })
	if ran {
		t.Errorf("Hold ran fn on a lease (fence %d) whose acquire reply came after its TTL, while another owner holds fence %d",
			l.Fence(), winner.Fence())
	}
	if !ops.HasCode(err, ops.CodeLeaseLost) {
		t.Errorf("Hold on a late lease: %v, want STORE_LEASE_LOST", err)
	}
	if err := winner.Extend(ctx, time.Minute); err != nil {
		t.Errorf("the winner's lease after the late Hold: %v, want it still held", err)
	}
}
