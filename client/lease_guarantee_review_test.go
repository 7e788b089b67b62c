package client_test

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/faultproxy"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
)

// Hold releases the lease "also when fn panics"; a fn that ends with runtime.Goexit (t.FailNow
// on a goroutine, a library that exits its goroutine) ends too: the lease must be released and
// the watchdog stopped, not extended forever.
func TestLeaseGuaranteeHoldReleasesOnGoexit(t *testing.T) {
	srv := redistest.Start(t)
	env := newLeaseEnv(t, srv.Client(t))
	ctx := context.Background()
	l, err := env.st.Claim.Acquire(ctx, "goexit", time.Minute, client.AcquireOptions{})
	if err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		defer close(exited) // runs after Hold's deferred calls
		_ = l.Hold(ctx, func(context.Context) error {
			runtime.Goexit()
			return nil
		})
	}()
	<-exited
	// Before the fix the watchdog kept extending the one-minute lease for ever.
	next, err := env.st.Claim.Acquire(ctx, "goexit", time.Minute, client.AcquireOptions{})
	if err != nil {
		t.Fatalf("after Hold's fn called runtime.Goexit the lease is still held: %v", err)
	}
	if err := next.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

// The watchdog cancels fn's ctx "while at least TTL/3 of the lease is certainly left", counted
// from when the acquire was sent. A Hold that begins late (the acquire's reply was slow, but not
// so slow that Hold refuses it) must still give up by then when no extension succeeds. Before
// the fix the first extension was due one interval after Hold began, not after the acquire was
// sent, so fn kept a live ctx until (nearly) the lease's expiry.
//
// The lease's remaining time is read from Redis (PTTL) when fn's ctx ends: the promise is at
// least TTL/3; the assertion allows TTL/12 of that for this process noticing the cancellation
// and the PTTL round trip (the drift margin, TTL/100 + 2 ms, also counts in the test's favour).
func TestLeaseGuaranteeWatchdogGivesUpWithATTLThirdLeftAfterALateReply(t *testing.T) {
	const ttl = 3 * time.Second
	srv := redistest.Start(t)
	proxy := faultproxy.Start(t, srv.Addr)
	failExtend := func(next ops.Handler) ops.Handler {
		return func(ctx context.Context, op ops.Op) (ops.Result, error) {
			if op.Kind == ops.LeaseExtend { // Redis unreachable for extensions
				return ops.Result{}, ops.Failure(op.Kind, ops.ErrUnavailable, errors.New("extensions are refused"))
			}
			return next(ctx, op)
		}
	}
	acquireAndRelease(t, newLeaseEnv(t, srv.Client(t)), "late-hold", ttl) // caches the script
	ctx := context.Background()
	held, release, got := acquireWithHeldReply(t, newSlowLeaseEnv(t, proxy, failExtend), proxy, "late-hold", ttl)
	<-held
	// The reply arrives a little over TTL/2 after the acquire ran: late, but with more than
	// TTL/3 (less the drift) still certainly left, so Hold accepts it. The delay is the fault.
	time.Sleep(ttl / 2)
	release()
	l := <-got
	if l == nil {
		t.FailNow()
	}
	left := make(chan time.Duration, 1)
	ran := false
	err := l.Hold(ctx, func(fctx context.Context) error {
		ran = true
		<-fctx.Done()
		pttl, err := srv.Client(t).PTTL(context.Background(), claimKey("late-hold")).Result()
		if err != nil {
			t.Error(err)
		}
		left <- pttl
		return nil
	})
	if !ran {
		t.Fatalf("Hold refused a lease with about TTL/2 left: %v", err)
	}
	if !ops.HasCode(err, ops.CodeLeaseLost) {
		t.Errorf("Hold with failing extensions: %v, want STORE_LEASE_LOST", err)
	}
	if pttl := <-left; pttl < ttl/3-ttl/12 {
		t.Errorf("fn's ctx was cancelled with %v of the lease left in Redis, want at least TTL/3 = %v", pttl, ttl/3)
	}
}

// Fences strictly increase "while Redis keeps the counter, whatever the clocks do", and stay
// below 2^53. A Redis clock far ahead (past the year 2255, say a host clock set wrong for a
// moment) stores a counter beyond 2^53; the acquire script computes in Lua numbers (doubles),
// which cannot count past 2^53, so tokens would repeat. The counter is seeded here with what such
// a clock leaves behind (the script's own format of it), as no test can set redis-server's clock.
// Every lease Acquire hands out must have a fence larger than the one before and below 2^53;
// one it cannot prove larger is refused.
func TestLeaseGuaranteeFencesNeverRepeatPastTwoTo53(t *testing.T) {
	srv := redistest.Start(t)
	env := newLeaseEnv(t, srv.Client(t))
	ctx := context.Background()
	acquireAndRelease(t, env, "far-ahead", time.Minute) // creates the counter
	const limit = int64(1) << 53
	fenceKey := client.LeaseFenceKey(claimKey("far-ahead"))
	if err := env.rdb.Set(ctx, fenceKey, strconv.FormatInt(limit-2, 10), 0).Err(); err != nil {
		t.Fatal(err)
	}
	last, refused := limit-2, 0
	for i := range 4 {
		l, err := env.st.Claim.Acquire(ctx, "far-ahead", time.Minute, client.AcquireOptions{})
		if err != nil {
			t.Logf("acquisition %d refused: %v", i, err)
			refused++
			if !ops.HasCode(err, ops.CodeClaimFailed) {
				t.Errorf("acquisition %d refused with %v, want STORE_CLAIM_FAILED", i, err)
			}
			if _, err := env.rdb.Get(ctx, claimKey("far-ahead")).Result(); !errors.Is(err, redis.Nil) {
				t.Errorf("a refused acquisition left the claim key held (%v)", err)
			}
			continue
		}
		if l.Fence() <= last || l.Fence() >= limit {
			t.Errorf("acquisition %d: fence %d after %d, want strictly larger and below 2^53 = %d", i, l.Fence(), last, limit)
		}
		last = l.Fence()
		if err := l.Release(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if refused == 0 { // the counter reached 2^53 on the second acquisition
		t.Error("no acquisition was refused with the counter at 2^53")
	}
}

// Acquire is marked idempotent: when its reply is lost (the connection dies after Redis ran the
// script), the store's retry runs it again; the retry must recognise its own token and return
// the same fence: one lease, one counter increment, and the lease is the caller's.
func TestLeaseGuaranteeLostAcquireReplyRetriesToTheSameFence(t *testing.T) {
	srv := redistest.Start(t)
	proxy := faultproxy.Start(t, srv.Addr)
	warm := newLeaseEnv(t, srv.Client(t))
	ctx := context.Background()
	first := acquireAndRelease(t, warm, "lost", time.Minute)
	env := newLeaseEnv(t, redis.NewClient(&redis.Options{Addr: proxy.Addr, MaxRetries: -1, ContextTimeoutEnabled: true}))
	dropped := proxy.DropReplyTo("evalsha")
	l, err := env.st.Claim.Acquire(ctx, "lost", time.Minute, client.AcquireOptions{})
	<-dropped
	if err != nil {
		t.Fatalf("an acquire whose reply was lost was not retried to success: %v", err)
	}
	counter, err := warm.rdb.Get(ctx, client.LeaseFenceKey(claimKey("lost"))).Int64()
	if err != nil {
		t.Fatal(err)
	}
	if l.Fence() != counter {
		t.Errorf("retried acquire's fence %d, counter %d: the retry took a second token", l.Fence(), counter)
	}
	if l.Fence() <= first.Fence() {
		t.Errorf("fence %d after %d", l.Fence(), first.Fence())
	}
	if err := l.Release(ctx); err != nil {
		t.Errorf("the retried lease is not the caller's: %v", err)
	}
}
