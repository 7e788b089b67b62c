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
