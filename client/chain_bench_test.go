package client_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/telemetry"
	"github.com/igniter-go/store/telemetry/opsotel"
	"github.com/igniter-go/store/telemetry/opsprom"
)

// BenchmarkObservedChainParallel is what the store itself costs each op of many concurrent
// callers, without Redis: KV.GetRaw through the default chain (timeout, retry, breaker) with
// Prometheus metrics and slog events at info, and then with always-sampled OTel spans too (a
// batch span processor whose exporter drops them), on an executor that returns at once. 64
// callers per core share the chain's locks and counters as the callers of a pipelined store
// do, so contention shows; cpu-ns/op (getrusage) is the client CPU the chain adds to each op.
//
//	go test ./client -run '^$' -bench ObservedChainParallel -count 5
func BenchmarkObservedChainParallel(b *testing.B) {
	for _, traced := range []bool{false, true} {
		name := "metrics+events"
		if traced {
			name += "+otel"
		}
		b.Run(name, func(b *testing.B) {
			st := observedNopStore(b, traced)
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
		})
	}
}

// observedNopStore is a store with the default chain, metrics, events and (traced) spans on an
// executor that answers every op at once with benchValue.
func observedNopStore(b *testing.B, traced bool) *client.Store {
	nop := client.HandlerAdapter(func(context.Context, ops.Op) (ops.Result, error) {
		return ops.Result{Value: benchValue, Bool: true}, nil
	})
	m := opsprom.New()
	prometheus.NewRegistry().MustRegister(m)
	sink := telemetry.NewSlogSink(slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo})))
	builder := client.New().WithService("api").WithAdapter(nop).WithMetrics(m).WithTelemetry(sink)
	if traced {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithBatcher(dropSpans{}))
		b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
		builder = builder.WithTracing(opsotel.New(opsotel.WithTracerProvider(tp)))
	}
	st, err := builder.Build()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	return st
}

// dropSpans ends every span at the batch processor's export.
type dropSpans struct{}

func (dropSpans) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (dropSpans) Shutdown(context.Context) error                             { return nil }
