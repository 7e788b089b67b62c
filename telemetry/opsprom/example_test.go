package opsprom_test

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/telemetry/opsprom"
)

// Register the metrics on your own registry and put the middleware outermost.
func ExampleNew() {
	m := opsprom.New()
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)

	exec := func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{Int: 1}, nil }
	h := m.Middleware()(exec)
	_, _ = h(context.Background(), ops.Op{Kind: ops.CounterIncrement, Service: "api", N: 1})

	n, _ := testutil.GatherAndCount(reg, opsprom.MetricOperations)
	fmt.Println(n, "outcome series for counter.increment")
	// Output: 8 outcome series for counter.increment
}

// Prepare (client.Builder.Build calls it) publishes a store's series before its first event:
// the breaker reads closed and every operation has a zero count.
func ExampleMetrics_Prepare() {
	m := opsprom.New()
	m.Prepare("api", []string{"tenant"}, "redis")

	fmt.Println(testutil.CollectAndCount(m, opsprom.MetricBreakerState), "breaker state series")
	fmt.Println(testutil.CollectAndCount(m, opsprom.MetricOperations) == 2*len(ops.Kinds())*len(opsprom.Outcomes()))
	// Output:
	// 3 breaker state series
	// true
}
