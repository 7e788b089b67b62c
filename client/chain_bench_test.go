package client_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/telemetry"
	"github.com/igniter-go/store/telemetry/opsprom"
)

// BenchmarkObservedChainParallel is what the store itself costs each op of many concurrent
// callers, without Redis: KV.GetRaw through the default chain (timeout, retry, breaker) with
// Prometheus metrics and slog events at info, on an executor that returns at once. 64 callers
// per core share the chain's locks and counters as the callers of a pipelined store do, so
// contention shows; cpu-ns/op (getrusage) is the client CPU the chain adds to each op.
func BenchmarkObservedChainParallel(b *testing.B) {
	nop := client.HandlerAdapter(func(context.Context, ops.Op) (ops.Result, error) {
		return ops.Result{Value: benchValue, Bool: true}, nil
	})
	m := opsprom.New()
	prometheus.NewRegistry().MustRegister(m)
	sink := telemetry.NewSlogSink(slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo})))
	st, err := client.New().WithService("api").WithAdapter(nop).WithMetrics(m).WithTelemetry(sink).Build()
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	org := st.MustScope("organization", "org_1")
	b.SetParallelism(64)
	b.ReportAllocs()
	defer redistest.CPUPerOp(b)()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if _, found, err := org.KV.GetRaw(ctx, "user:1"); err != nil || !found {
				b.Error(err)
				return
			}
		}
	})
}
