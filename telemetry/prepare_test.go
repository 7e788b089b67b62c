package telemetry_test

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/middleware/breaker"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/telemetry/opsprom"
)

// TestBuildPreparesTheMetrics: a store's metrics exist at Build, before its first operation:
// the breaker reads closed and every operation has a zero count, unscoped and per declared scope
// key. Without a breaker there is no breaker series.
func TestBuildPreparesTheMetrics(t *testing.T) {
	exec := func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{}, nil }
	m := opsprom.New()
	st, err := client.New().WithService("shop").WithAdapter(client.HandlerAdapter(exec)).AddScope("tenant").
		WithBreaker(breaker.Settings{Name: "primary"}).WithMetrics(m).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	want := `
# HELP igniter_store_breaker_state 1 for the circuit breaker's current state, 0 for the others.
# TYPE igniter_store_breaker_state gauge
igniter_store_breaker_state{breaker="primary",service="shop",state="closed"} 1
igniter_store_breaker_state{breaker="primary",service="shop",state="half-open"} 0
igniter_store_breaker_state{breaker="primary",service="shop",state="open"} 0
`
	if err := testutil.CollectAndCompare(m, strings.NewReader(want), opsprom.MetricBreakerState); err != nil {
		t.Fatal(err)
	}
	if n, want := testutil.CollectAndCount(m, opsprom.MetricOperations), 2*len(ops.Kinds())*len(opsprom.Outcomes()); n != want {
		t.Fatalf("%d operation series at Build, want %d", n, want)
	}

	m2 := opsprom.New()
	st2, err := client.New().WithService("shop").WithAdapter(client.HandlerAdapter(exec)).WithoutBreaker().WithMetrics(m2).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	if n := testutil.CollectAndCount(m2, opsprom.MetricBreakerState); n != 0 {
		t.Fatalf("%d breaker series without a breaker", n)
	}
	if n := testutil.CollectAndCount(m2, opsprom.MetricOperations); n != len(ops.Kinds())*len(opsprom.Outcomes()) {
		t.Fatalf("%d operation series", n)
	}
}
