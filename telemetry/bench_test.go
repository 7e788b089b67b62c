package telemetry_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/telemetry"
	"github.com/igniter-go/store/telemetry/opsotel"
	"github.com/igniter-go/store/telemetry/opsprom"
)

// BenchmarkChain measures what each telemetry output adds per operation over the chain without
// telemetry, on a no-op executor: the cost of telemetry alone.
//
//	go test -run '^$' -bench BenchmarkChain -benchmem -benchtime=1s ./telemetry/
func BenchmarkChain(b *testing.B) {
	noop := func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{Bool: true}, nil }
	op := ops.Op{Kind: ops.KVGet, Service: "shop", ScopeKey: "tenant", ScopeDepth: 1,
		Key: "igniter:store:shop:tenant:t_1:kv:cart", Idempotent: true}
	infoLog := telemetry.NewSlogSink(slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo})))
	debugLog := telemetry.NewSlogSink(slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug})))

	// A sampled tracer with the batch processor and an exporter that drops spans: spans are
	// recorded and ended as in production, without export cost.
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) }()
	otelMW := opsotel.Middleware(opsotel.WithTracerProvider(tp), opsotel.WithMeterProvider(mp), opsotel.WithServerAddress("localhost", 6379))
	prom := opsprom.NewMetrics()

	cases := []struct {
		name string
		mw   ops.Middleware
	}{
		{"none", ops.Chain()},
		{"metrics+events", ops.Chain(prom.Middleware(), telemetry.Middleware(infoLog))},
		{"metrics+events+otel", ops.Chain(otelMW, prom.Middleware(), telemetry.Middleware(infoLog))},
		{"events-debug-json", telemetry.Middleware(debugLog)},
		{"events-recorderless-multi", telemetry.Middleware(telemetry.Multi(infoLog, infoLog))},
		{"otel", otelMW},
	}
	ctx := context.Background()
	for _, c := range cases {
		h := c.mw(noop)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = h(ctx, op)
			}
		})
	}
}
