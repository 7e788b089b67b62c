package telemetry_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	noopmetric "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/telemetry"
	"github.com/igniter-go/store/telemetry/opsotel"
	"github.com/igniter-go/store/telemetry/opsprom"
)

// TestAllocationBudget keeps the allocation budget of the issue (speed is for the benchmarks):
// metrics and events add at most 1 allocation per operation, sampled spans at most 4 more, and a
// span the sampler drops adds only what the SDK's Start allocates (its span and context) for a
// span with no attribute: the tracer copies no attribute for it.
func TestAllocationBudget(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	noop := func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{Bool: true}, nil }
	op := ops.Op{Kind: ops.KVGet, Service: "shop", ScopeKey: "tenant", ScopeDepth: 1, Key: "igniter:store:shop:tenant:t_1:kv:cart"}
	sink := telemetry.NewSlogSink(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) }()
	base := ops.Chain(opsprom.New().Middleware(), telemetry.New(sink))
	traced := ops.Chain(opsotel.New(opsotel.WithTracerProvider(tp), opsotel.WithMeterProvider(mp)).Middleware(), base)
	errDown := ops.Failure(ops.KVGet, ops.ErrUnavailable, io.EOF)
	fail := func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{}, errDown }
	quiet := ops.Chain(opsprom.New().Middleware(), telemetry.New(levelSink{slog.LevelError + 1, telemetry.NewRecorder()}))
	ctx := context.Background()
	never := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	parent10 := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.1))))
	defer func() { _ = never.Shutdown(ctx); _ = parent10.Shutdown(ctx) }()
	unsampled := trace.ContextWithRemoteSpanContext(ctx, remoteParent(0))
	sdkStart := testing.AllocsPerRun(200, func() { _, _ = sdkFloor(never)(noop)(ctx, op) })
	if sdkStart == 0 {
		t.Fatal("the SDK's Start allocated nothing: the unsampled cases below prove nothing")
	}
	tracer := func(tp trace.TracerProvider, opts ...opsotel.Option) ops.Handler {
		return ops.Chain(opsotel.New(append([]opsotel.Option{opsotel.WithTracerProvider(tp), opsotel.WithMeterProvider(mp)}, opts...)...).Middleware())(noop)
	}
	for _, c := range []struct {
		name string
		h    ops.Handler
		ctx  context.Context
	}{
		{"never sampled", tracer(never), ctx},
		{"never sampled, every attribute, failing op", ops.Chain(opsotel.New(opsotel.WithTracerProvider(never), opsotel.WithMeterProvider(noopmetric.NewMeterProvider()),
			opsotel.WithServerAddress("redis", 6380), opsotel.WithDBNamespace("1"), opsotel.WithSpanAttrs(opsotel.SpanStore)).Middleware())(fail), ctx},
		{"parent-based 10%, unsampled parent", tracer(parent10, opsotel.WithSpanAttrs(opsotel.SpanStore)), unsampled},
	} {
		if got := testing.AllocsPerRun(200, func() { _, _ = c.h(c.ctx, op) }); got > sdkStart {
			t.Errorf("%s: %v allocations per op, the SDK's Start alone %v", c.name, got, sdkStart)
		}
	}
	for _, c := range []struct {
		name string
		h    ops.Handler
		max  float64
	}{
		{"metrics+events", base(noop), 1},
		{"metrics+events+otel", traced(noop), 5},
		{"metrics+events, failing op, error event not wanted", quiet(fail), 1},
	} {
		if got := testing.AllocsPerRun(200, func() { _, _ = c.h(ctx, op) }); got > c.max {
			t.Errorf("%s: %v allocations per op, budget %v", c.name, got, c.max)
		}
	}
}
