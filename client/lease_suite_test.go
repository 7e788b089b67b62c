package client_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/ops"
)

// leaseEnv is a store on a real Redis (one node or a cluster) and a raw client to it.
type leaseEnv struct {
	st  *client.Store
	rdb redis.UniversalClient
}

func newLeaseEnv(t *testing.T, rdb redis.UniversalClient, mws ...ops.Middleware) leaseEnv {
	t.Helper()
	st, err := client.New().WithService("api").WithAdapter(client.Redis(rdb)).Use(mws...).Build()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return leaseEnv{st: st, rdb: rdb}
}

func claimKey(key string) string { return "igniter:store:api:claim:" + key }

// runLeaseSuite runs the lease tests that must pass on a single node and on Redis Cluster.
func runLeaseSuite(t *testing.T, env leaseEnv) {
	t.Run("TwoContendersExactlyOneWins", func(t *testing.T) { testTwoContenders(t, env) })
	t.Run("NonOwnerCannotReleaseOrExtend", func(t *testing.T) { testNonOwner(t, env) })
	t.Run("ExpiryThenReacquireHasLargerFence", func(t *testing.T) { testExpiryFence(t, env) })
	t.Run("HoldCancelsWhenKeyDeleted", func(t *testing.T) { testHoldCancels(t, env) })
	t.Run("KeyShapes", func(t *testing.T) { testKeyShapes(t, env) })
	t.Run("Contention", func(t *testing.T) { testContention(t, env) })
}

func testTwoContenders(t *testing.T, env leaseEnv) {
	ctx := context.Background()
	for round := range 20 {
		key := fmt.Sprintf("contenders:%d", round)
		start := make(chan struct{})
		type outcome struct {
			l   *client.Lease
			err error
		}
		out := make(chan outcome, 2)
		for range 2 {
			go func() {
				<-start
				l, err := env.st.Claim.Acquire(ctx, key, 10*time.Second, client.AcquireOptions{})
				out <- outcome{l, err}
			}()
		}
		close(start)
		a, b := <-out, <-out
		if (a.err == nil) == (b.err == nil) {
			t.Fatalf("round %d: want exactly one winner, got errors %v and %v", round, a.err, b.err)
		}
		win, lose := a, b
		if a.err != nil {
			win, lose = b, a
		}
		if !ops.HasCode(lose.err, ops.CodeLeaseNotAcquired) || !errors.Is(lose.err, ops.ErrConflict) {
			t.Fatalf("loser: want STORE_LEASE_NOT_ACQUIRED (conflict), got %v", lose.err)
		}
		if got := env.rdb.Get(ctx, claimKey(key)).Val(); got != `"`+win.l.Token()+`"` {
			t.Fatalf("the claim key holds %q, not the winner's token", got)
		}
		if err := win.l.Release(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

func testNonOwner(t *testing.T, env leaseEnv) {
	ctx := context.Background()
	key := "nonowner"
	old, err := env.st.Claim.Acquire(ctx, key, 10*time.Second, client.AcquireOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The key disappears behind old's back (as after an expiry) and a new owner takes it.
	env.rdb.Del(ctx, claimKey(key))
	cur, err := env.st.Claim.Acquire(ctx, key, 10*time.Second, client.AcquireOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Extend(ctx, time.Hour); !ops.HasCode(err, ops.CodeLeaseLost) || !errors.Is(err, ops.ErrConflict) {
		t.Fatalf("extend by a non-owner: want STORE_LEASE_LOST, got %v", err)
	}
	if pttl := env.rdb.PTTL(ctx, claimKey(key)).Val(); pttl > 10*time.Second {
		t.Fatalf("a non-owner's extend changed the expiry: pttl %v", pttl)
	}
	if err := old.Release(ctx); !ops.HasCode(err, ops.CodeLeaseLost) {
		t.Fatalf("release by a non-owner: want STORE_LEASE_LOST, got %v", err)
	}
	if ok, err := env.st.Claim.Release(ctx, key, "someone-else"); ok || !ops.HasCode(err, ops.CodeClaimNotOwner) {
		t.Fatalf("Claim.Release by a non-owner: want false, STORE_CLAIM_NOT_OWNER, got %v %v", ok, err)
	}
	if got := env.rdb.Get(ctx, claimKey(key)).Val(); got != `"`+cur.Token()+`"` {
		t.Fatalf("non-owners changed the claim: %q", got)
	}
	for _, err := range []error{old.Extend(ctx, time.Hour), old.Release(ctx)} {
		if msg := err.Error(); strings.Contains(msg, old.Token()) || strings.Contains(msg, cur.Token()) || strings.Contains(msg, key) {
			t.Fatalf("an error message leaks a token or key: %q", msg)
		}
	}
	if err := cur.Extend(ctx, time.Minute); err != nil {
		t.Fatalf("owner's extend: %v", err)
	}
	if pttl := env.rdb.PTTL(ctx, claimKey(key)).Val(); pttl <= 10*time.Second {
		t.Fatalf("the owner's extend did not apply: pttl %v", pttl)
	}
	// A lease's token is its owner: Claim.Release accepts it.
	if ok, err := env.st.Claim.Release(ctx, key, cur.Token()); !ok || err != nil {
		t.Fatalf("Claim.Release with the lease token: %v %v", ok, err)
	}
	if err := cur.Release(ctx); !ops.HasCode(err, ops.CodeLeaseLost) {
		t.Fatalf("second release: want STORE_LEASE_LOST, got %v", err)
	}
}

func testExpiryFence(t *testing.T, env leaseEnv) {
	ctx := context.Background()
	key := "expiry"
	first, err := env.st.Claim.Acquire(ctx, key, 100*time.Millisecond, client.AcquireOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Waiting acquisition: succeeds once the first lease has expired.
	second, err := env.st.Claim.Acquire(ctx, key, 10*time.Second, client.AcquireOptions{Wait: 30 * time.Second, RetryInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if second.Fence() <= first.Fence() {
		t.Fatalf("fence after expiry %d is not larger than %d", second.Fence(), first.Fence())
	}
	if err := first.Release(ctx); !ops.HasCode(err, ops.CodeLeaseLost) {
		t.Fatalf("releasing an expired lease: want STORE_LEASE_LOST, got %v", err)
	}
	if err := second.Release(ctx); err != nil {
		t.Fatal(err)
	}
	third, err := env.st.Claim.Acquire(ctx, key, 10*time.Second, client.AcquireOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer third.Release(ctx)
	if third.Fence() <= second.Fence() {
		t.Fatalf("fence after release %d is not larger than %d", third.Fence(), second.Fence())
	}
	// Waiting honours ctx: a held key and a short deadline give STORE_TIMEOUT.
	dctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = env.st.Claim.Acquire(dctx, key, time.Second, client.AcquireOptions{Wait: time.Hour, RetryInterval: 10 * time.Millisecond})
	if !ops.HasCode(err, ops.CodeTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting past the ctx deadline: want STORE_TIMEOUT, got %v", err)
	}
}

func testHoldCancels(t *testing.T, env leaseEnv) {
	ctx := context.Background()
	key := "hold"
	ctxs := make(chan context.Context, 1)
	holdErr := make(chan error, 1)
	go func() {
		holdErr <- env.st.Claim.Hold(ctx, key, 600*time.Millisecond, func(ctx context.Context) error {
			ctxs <- ctx
			<-ctx.Done()
			return ctx.Err()
		})
	}()
	fnCtx := <-ctxs
	env.rdb.Del(ctx, claimKey(key))
	select {
	case <-fnCtx.Done(): // the next extension (every 200ms) finds the key gone
	case <-time.After(30 * time.Second): // a generous bound: only a hang reaches it
		t.Fatal("Hold did not cancel its ctx after the key was deleted")
	}
	if cause := context.Cause(fnCtx); !ops.HasCode(cause, ops.CodeLeaseLost) {
		t.Fatalf("cause: want STORE_LEASE_LOST, got %v", cause)
	}
	if err := <-holdErr; !ops.HasCode(err, ops.CodeLeaseLost) {
		t.Fatalf("Hold: want STORE_LEASE_LOST, got %v", err)
	}
}

// testKeyShapes runs leases on keys with hash tags, stray braces and scope ids holding a tag:
// on a cluster, any fence key in another slot than its claim key would fail with CROSSSLOT.
func testKeyShapes(t *testing.T, env leaseEnv) {
	ctx := context.Background()
	tenant, err := env.st.Scope("org", "{org_9}")
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []*client.Store{env.st, tenant} {
		for _, key := range []string{"plain", "job:{t7}:sync", "a}b", "x{}y", "{}", "}{", "{a", "{b}", "ключ"} {
			var fences []int64
			for range 2 {
				l, err := st.Claim.Acquire(ctx, key, 10*time.Second, client.AcquireOptions{})
				if err != nil {
					t.Fatalf("%s %q: acquire: %v", st.Prefix(), key, err)
				}
				if got := env.rdb.Get(ctx, st.Prefix()+":claim:"+key).Val(); got != `"`+l.Token()+`"` {
					t.Fatalf("%s %q: claim key holds %q", st.Prefix(), key, got)
				}
				if err := l.Extend(ctx, 20*time.Second); err != nil {
					t.Fatalf("%s %q: extend: %v", st.Prefix(), key, err)
				}
				if err := l.Release(ctx); err != nil {
					t.Fatalf("%s %q: release: %v", st.Prefix(), key, err)
				}
				fences = append(fences, l.Fence())
			}
			if fences[1] <= fences[0] {
				t.Fatalf("%s %q: fences %v do not grow", st.Prefix(), key, fences)
			}
		}
	}
}

// testContention: 32 goroutines × 200 acquisitions guard a read-modify-write (GET, then SET) of
// a counter; any overlap of two holders loses an increment. The counter's value also records the
// last holder's fence, and each holder checks that its own is larger.
func testContention(t *testing.T, env leaseEnv) {
	const workers, rounds = 32, 200
	ctx := context.Background()
	const counter = "lease-test:counter"
	env.rdb.Del(ctx, counter)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	// The default retry interval: with 32 pollers it keeps the lease busy without burning the CPU
	// the holder needs (2ms polling ran this test 3× slower).
	opts := client.AcquireOptions{Wait: 5 * time.Minute}
	for range workers {
		wg.Go(func() {
			for range rounds {
				if err := incrementUnderLease(ctx, env, counter, opts); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got, err := env.rdb.Get(ctx, counter).Result(); err != nil || !strings.HasPrefix(got, strconv.Itoa(workers*rounds)+" ") {
		t.Fatalf("counter = %q (%v), want %d increments", got, err, workers*rounds)
	}
}

// incrementUnderLease reads "<count> <fence>", checks the fence, and writes "<count+1> <fence>".
func incrementUnderLease(ctx context.Context, env leaseEnv, counter string, opts client.AcquireOptions) error {
	l, err := env.st.Claim.Acquire(ctx, "contended", 10*time.Second, opts)
	if err != nil {
		return err
	}
	var n, prev int64
	switch v, err := env.rdb.Get(ctx, counter).Result(); {
	case err == redis.Nil:
	case err != nil:
		return err
	default:
		if _, err := fmt.Sscanf(v, "%d %d", &n, &prev); err != nil {
			return fmt.Errorf("counter %q: %w", v, err)
		}
	}
	if l.Fence() <= prev {
		return fmt.Errorf("fence %d is not larger than the previous holder's %d", l.Fence(), prev)
	}
	if err := env.rdb.Set(ctx, counter, fmt.Sprintf("%d %d", n+1, l.Fence()), 0).Err(); err != nil {
		return err
	}
	return l.Release(ctx)
}
