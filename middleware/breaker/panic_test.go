package breaker_test

import (
	"context"
	"testing"
	"time"

	"github.com/igniter-go/store/middleware/breaker"
	"github.com/igniter-go/store/ops"
)

// callRecover runs h and returns what it panicked with, or nil.
func callRecover(h ops.Handler) (r any) {
	defer func() { r = recover() }()
	_, _ = h(context.Background(), op)
	return nil
}

// A panic below the breaker while half-open is the probe's failure: the breaker opens again
// (it does not stay half-open with its one probe used up), the panic reaches the caller, and
// the next probe after the timeout closes it.
func TestPanicBelowHalfOpenProbeCountsAsFailureAndIsReraised(t *testing.T) {
	d := newDriver(t, breaker.Settings{Failures: 1, Timeout: time.Nanosecond, Probes: 1})
	d.run(down, 1)
	d.want(breaker.StateHalfOpen, 1, "closed>open", "open>half-open")

	panicking := d.b.Middleware()(func(context.Context, ops.Op) (ops.Result, error) { panic("boom") })
	if r := callRecover(panicking); r != "boom" {
		t.Fatalf("recovered %v, want the panic re-raised", r)
	}
	d.want(breaker.StateHalfOpen, 1, "closed>open", "open>half-open", "half-open>open", "open>half-open")

	if err := d.call(context.Background(), nil); err != nil {
		t.Fatalf("the probe after the panic was not let through: %v", err)
	}
	d.want(breaker.StateClosed, 2, "closed>open", "open>half-open", "half-open>open", "open>half-open", "half-open>closed")
}

// While closed, a panic below counts towards the failures that open the breaker.
func TestPanicBelowClosedBreakerCountsAsFailure(t *testing.T) {
	d := newDriver(t, breaker.Settings{Failures: 2, Timeout: time.Hour})
	panicking := d.b.Middleware()(func(context.Context, ops.Op) (ops.Result, error) { panic("boom") })
	d.run(down, 1)
	if r := callRecover(panicking); r != "boom" {
		t.Fatalf("recovered %v", r)
	}
	d.want(breaker.StateOpen, 1, "closed>open")
}
