package client_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
)

func TestLeaseSingleNode(t *testing.T) {
	srv := redistest.Start(t)
	runLeaseSuite(t, newLeaseEnv(t, srv.Client(t)))
}

// extendGate is a middleware that stops every lease.extend before the executor until the test
// lets it through, and reports the extension's outcome: the test decides what Redis looks like
// when each watchdog extension runs.
type extendGate struct {
	arrived chan struct{}
	proceed chan struct{}
	results chan error
}

func newExtendGate() *extendGate {
	return &extendGate{arrived: make(chan struct{}), proceed: make(chan struct{}), results: make(chan error, 1)}
}

func (g *extendGate) middleware(next ops.Handler) ops.Handler {
	return func(ctx context.Context, op ops.Op) (ops.Result, error) {
		if op.Kind != ops.LeaseExtend {
			return next(ctx, op)
		}
		g.arrived <- struct{}{}
		<-g.proceed
		res, err := next(ctx, op)
		g.results <- err
		return res, err
	}
}

// TestLeaseHoldCancelsAtTheFirstExtensionAfterLoss proves "within one extend interval" without
// a clock: the extension that first runs after the key is deleted cancels fn's ctx, and the
// watchdog stops extending.
func TestLeaseHoldCancelsAtTheFirstExtensionAfterLoss(t *testing.T) {
	srv := redistest.Start(t)
	gate := newExtendGate()
	env := newLeaseEnv(t, srv.Client(t), gate.middleware)
	ctx := context.Background()
	ctxs := make(chan context.Context, 1)
	holdErr := make(chan error, 1)
	go func() {
		holdErr <- env.st.Claim.Hold(ctx, "gated", 4500*time.Millisecond, func(ctx context.Context) error {
			ctxs <- ctx
			<-ctx.Done()
			return ctx.Err()
		})
	}()
	fnCtx := <-ctxs

	<-gate.arrived // first extension: the lease is still ours
	gate.proceed <- struct{}{}
	if err := <-gate.results; err != nil {
		t.Fatalf("first extension: %v", err)
	}
	if fnCtx.Err() != nil {
		t.Fatal("fn's ctx ended while the lease was held")
	}

	<-gate.arrived // second extension: delete the key first
	if err := env.rdb.Del(ctx, claimKey("gated")).Err(); err != nil {
		t.Fatal(err)
	}
	gate.proceed <- struct{}{}
	if err := <-gate.results; !ops.HasCode(err, ops.CodeLeaseLost) {
		t.Fatalf("extension after the delete: want STORE_LEASE_LOST, got %v", err)
	}
	select {
	case <-fnCtx.Done():
	case <-time.After(30 * time.Second): // generous: the cancel follows the reply directly
		t.Fatal("fn's ctx was not cancelled by the failed extension")
	}
	if !ops.HasCode(context.Cause(fnCtx), ops.CodeLeaseLost) {
		t.Fatalf("cause: %v", context.Cause(fnCtx))
	}
	if err := <-holdErr; !ops.HasCode(err, ops.CodeLeaseLost) {
		t.Fatalf("Hold: want STORE_LEASE_LOST, got %v", err)
	}
	// Hold has returned, so its watchdog has stopped: no extension is waiting at the gate.
	select {
	case <-gate.arrived:
		t.Fatal("the watchdog extended after the lease was lost")
	default:
	}
}

func TestLeaseHoldReturnsErrorsAndReleases(t *testing.T) {
	srv := redistest.Start(t)
	env := newLeaseEnv(t, srv.Client(t))
	ctx := context.Background()
	boom := errors.New("boom")
	err := env.st.Claim.Hold(ctx, "h", 10*time.Second, func(ctx context.Context) error {
		if n := env.rdb.Exists(ctx, claimKey("h")).Val(); n != 1 {
			t.Errorf("the lease is not held while fn runs")
		}
		// A second Hold on the held key does not run its fn.
		err := env.st.Claim.Hold(ctx, "h", time.Second, func(context.Context) error {
			t.Error("fn ran without the lease")
			return nil
		})
		if !ops.HasCode(err, ops.CodeLeaseNotAcquired) {
			t.Errorf("nested Hold: want STORE_LEASE_NOT_ACQUIRED, got %v", err)
		}
		return boom
	})
	if err != boom {
		t.Fatalf("Hold returned %v, want fn's error as is", err)
	}
	if n := env.rdb.Exists(ctx, claimKey("h")).Val(); n != 0 {
		t.Fatal("Hold did not release the lease")
	}

	func() {
		defer func() {
			if p := recover(); p != "kaboom" {
				t.Fatalf("recovered %v, want the fn's panic", p)
			}
		}()
		_ = env.st.Claim.Hold(ctx, "p", 10*time.Second, func(context.Context) error { panic("kaboom") })
	}()
	if n := env.rdb.Exists(ctx, claimKey("p")).Val(); n != 0 {
		t.Fatal("Hold did not release the lease after a panic")
	}

	// A cancelled caller ctx still releases the lease.
	cctx, cancel := context.WithCancel(ctx)
	err = env.st.Claim.Hold(cctx, "c", 10*time.Second, func(context.Context) error { cancel(); return nil })
	if err != nil {
		t.Fatalf("Hold after the caller's cancel: %v", err)
	}
	if n := env.rdb.Exists(ctx, claimKey("c")).Val(); n != 0 {
		t.Fatal("Hold did not release the lease after the caller's ctx ended")
	}
}

func TestLeaseInvalidInput(t *testing.T) {
	srv := redistest.Start(t)
	env := newLeaseEnv(t, srv.Client(t))
	ctx := context.Background()
	cases := []struct {
		name string
		key  string
		ttl  time.Duration
		opts client.AcquireOptions
		code ops.Code
	}{
		{"empty key", "", time.Second, client.AcquireOptions{}, ops.CodeKeyRequired},
		{"zero ttl", "k", 0, client.AcquireOptions{}, ops.CodeTTLInvalid},
		{"negative ttl", "k", -time.Second, client.AcquireOptions{}, ops.CodeTTLInvalid},
		{"negative wait", "k", time.Second, client.AcquireOptions{Wait: -1}, ops.CodeConfigurationInvalid},
	}
	for _, c := range cases {
		if _, err := env.st.Claim.Acquire(ctx, c.key, c.ttl, c.opts); !ops.HasCode(err, c.code) || !errors.Is(err, ops.ErrInvalid) {
			t.Errorf("%s: want %s, got %v", c.name, c.code, err)
		}
	}
	l, err := env.st.Claim.Acquire(ctx, "k", time.Second, client.AcquireOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Extend(ctx, 0); !ops.HasCode(err, ops.CodeTTLInvalid) {
		t.Fatalf("extend 0: want STORE_TTL_INVALID, got %v", err)
	}
	if s := l.String(); s == "" || strings.Contains(s, l.Token()) {
		t.Fatalf("String leaks the token: %q", s)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	// A fence key that is not an integer fails the acquisition before anything is written.
	keys, _ := env.rdb.Keys(ctx, client.LeaseFenceKey("igniter:store:api:claim:k")).Result()
	if len(keys) != 1 {
		t.Fatalf("fence key layout: found %v", keys)
	}
	env.rdb.Set(ctx, keys[0], "not a number", 0)
	if _, err := env.st.Claim.Acquire(ctx, "k", time.Second, client.AcquireOptions{}); !ops.HasCode(err, ops.CodeClaimFailed) {
		t.Fatalf("corrupt fence: want STORE_CLAIM_FAILED, got %v", err)
	}
	if n := env.rdb.Exists(ctx, claimKey("k")).Val(); n != 0 {
		t.Fatal("a failed acquisition left the claim key set")
	}
}
