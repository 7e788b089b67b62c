package telemetry_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/telemetry"
	"github.com/igniter-go/store/telemetry/opsotel"
	"github.com/igniter-go/store/telemetry/opsprom"
)

// Events of an operation, written by the slog sink (timestamps removed for the example).
func ExampleNew() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	exec := func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{Int: 3}, nil }
	h := telemetry.New(telemetry.NewSlogSink(logger))(exec)

	op := ops.Op{Kind: ops.CounterIncrement, Service: "api", ScopeKey: "organization", ScopeDepth: 1,
		Key: "igniter:store:api:organization:org_1:counter:logins", N: 1}
	n, _ := h(context.Background(), op)
	fmt.Println(n.Int)
	// Output:
	// level=DEBUG msg=igniter.store.counter.increment.started ctx.store.service=api ctx.store.namespace=counter ctx.store.scope_key=organization ctx.store.scope_depth=1 ctx.counter.delta=1
	// level=DEBUG msg=igniter.store.counter.increment.success ctx.store.service=api ctx.store.namespace=counter ctx.store.scope_key=organization ctx.store.scope_depth=1 ctx.counter.delta=1 ctx.counter.value=3
	// 3
}

// The catalog is a list: the original's 63 names, then this edition's.
func ExampleCatalog() {
	n := 0
	for _, e := range telemetry.Catalog() {
		if e.Original {
			n++
		}
	}
	fmt.Println(n, telemetry.Name(ops.ClaimOnce, telemetry.PhaseSuccess))
	// Output: 63 igniter.store.claim.acquire.success
}

// Wiring a store: events to a sink (here a Recorder), metrics to a Prometheus Collector you
// register, spans to the global OpenTelemetry providers.
func Example_store() {
	rec := telemetry.NewRecorder()
	metrics := opsprom.New() // prometheus.MustRegister(metrics) on your registry
	exec := func(context.Context, ops.Op) (ops.Result, error) {
		return ops.Result{Value: []byte(`"Ada"`), Bool: true}, nil
	}
	st, err := client.New().WithService("api").WithAdapter(client.HandlerAdapter(exec)).
		WithTelemetry(rec).
		WithMetrics(metrics).
		WithTracing(opsotel.New(opsotel.WithServerAddress("redis.internal", 6379))).
		Build()
	if err != nil {
		panic(err)
	}
	defer st.Close()

	var name string
	_, _ = st.MustScope("organization", "org_1").KV.Get(context.Background(), "user:1:name", &name)
	for _, e := range rec.Events() {
		fmt.Println(e.Name, len(e.Attrs))
	}
	// Output:
	// igniter.store.kv.get.started 4
	// igniter.store.kv.get.success 5
}
