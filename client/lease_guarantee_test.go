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
	acquireAndRelease(t, other, "late", ttl) // caches the script, creates the counter
	held, release, late := acquireWithHeldReply(t, newSlowLeaseEnv(t, proxy), proxy, "late", ttl)
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

// acquireAndRelease acquires key and releases it at once (caching the acquire script and
// creating the fence counter) and returns the released lease.
func acquireAndRelease(t *testing.T, env leaseEnv, key string, ttl time.Duration) *client.Lease {
	t.Helper()
	ctx := context.Background()
	l, err := env.st.Claim.Acquire(ctx, key, ttl, client.AcquireOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	return l
}

// newSlowLeaseEnv is a lease env whose connections go through proxy, with a long read timeout:
// a held reply must arrive late, not fail.
func newSlowLeaseEnv(t *testing.T, proxy *faultproxy.Proxy, mws ...ops.Middleware) leaseEnv {
	t.Helper()
	return newLeaseEnv(t, redis.NewClient(&redis.Options{Addr: proxy.Addr, MaxRetries: -1, ReadTimeout: time.Minute, ContextTimeoutEnabled: true}), mws...)
}

// acquireWithHeldReply starts an Acquire of key through env whose reply proxy holds: held
// closes once the script ran in Redis, release lets the reply through, and got receives the
// lease (nil if the acquire failed, which is reported).
func acquireWithHeldReply(t *testing.T, env leaseEnv, proxy *faultproxy.Proxy, key string, ttl time.Duration) (held <-chan struct{}, release func(), got <-chan *client.Lease) {
	held, release = proxy.HoldReplyTo("evalsha")
	ch := make(chan *client.Lease, 1)
	go func() {
		l, err := env.st.Claim.Acquire(context.Background(), key, ttl, client.AcquireOptions{})
		if err != nil {
			t.Error(err)
		}
		ch <- l
	}()
	return held, release, ch
}
