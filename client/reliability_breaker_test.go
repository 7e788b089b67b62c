package client_test

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/middleware/breaker"
	"github.com/igniter-go/store/ops"
)

// Issue #11, defect 5: a panic below the breaker (here a Use() middleware) while it is
// half-open used up the only probe without reporting it, and the breaker stayed half-open for
// good: every later call was STORE_CIRCUIT_OPEN. The panic now counts as the probe's failure and
// reaches the caller; the next probe closes the breaker and calls reach Redis again.
func TestReliabilityBreakerPanicBelowHalfOpenProbeClosesAgain(t *testing.T) {
	srv := redistest.Start(t)
	const (
		pass = iota
		fail
		panicOnce
	)
	var mode atomic.Int32
	below := func(next ops.Handler) ops.Handler {
		return func(ctx context.Context, op ops.Op) (ops.Result, error) {
			switch mode.Load() {
			case fail:
				return ops.Result{}, ops.Failure(op.Kind, ops.ErrUnavailable, io.EOF)
			case panicOnce:
				if mode.CompareAndSwap(panicOnce, pass) {
					panic("boom below the breaker")
				}
			}
			return next(ctx, op)
		}
	}
	changes := make(chan string, 16)
	st, err := client.New().WithService("api").WithAdapter(client.Redis(srv.Client(t))).WithoutRetry().
		// A 1ns open timeout: the first call after a trip is the half-open probe, so no test
		// step waits for the timeout.
		WithBreaker(breaker.Settings{Failures: 1, Timeout: time.Nanosecond, Probes: 1,
			OnStateChange: func(_ string, from, to breaker.State) { changes <- from.String() + ">" + to.String() }}).
		Use(below).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	await := func(want ...string) {
		t.Helper()
		for _, w := range want {
			select {
			case got := <-changes:
				if got != w {
					t.Fatalf("breaker transition %s, want %s", got, w)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("no breaker transition %s", w)
			}
		}
	}

	mode.Store(fail)
	if _, err := st.KV.Exists(ctx, "k"); !errors.Is(err, ops.ErrUnavailable) {
		t.Fatalf("tripping call: %v", err)
	}
	await("closed>open")

	mode.Store(panicOnce)
	func() {
		defer func() {
			if r := recover(); r != "boom below the breaker" {
				t.Fatalf("the panic must reach the caller, recovered %v", r)
			}
		}()
		_, _ = st.KV.Exists(ctx, "k")
	}()
	await("open>half-open", "half-open>open")

	if err := st.KV.Set(ctx, "k", "v", 0); err != nil {
		t.Fatalf("the probe after the panic: %v", err)
	}
	await("open>half-open", "half-open>closed")
	var v string
	if found, err := st.KV.Get(ctx, "k", &v); err != nil || !found || v != "v" {
		t.Fatalf("after the breaker closed: %v %v %q", found, err, v)
	}
	if n, err := srv.Client(t).Exists(ctx, "igniter:store:api:kv:k").Result(); err != nil || n != 1 {
		t.Fatalf("the probe's SET did not reach redis-server: %v %v", n, err)
	}
}
