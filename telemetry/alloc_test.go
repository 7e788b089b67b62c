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

// TestAllocationBudget keeps the allocation budget of the issue (speed is for the benchmarks):
// metrics and events add at most 1 allocation per operation, sampled spans at most 8 more.
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
	for _, c := range []struct {
		name string
		h    ops.Handler
		max  float64
	}{
		{"metrics+events", base(noop), 1},
		{"metrics+events+otel", traced(noop), 9},
		{"metrics+events, failing op, error event not wanted", quiet(fail), 1},
	} {
		if got := testing.AllocsPerRun(200, func() { _, _ = c.h(ctx, op) }); got > c.max {
			t.Errorf("%s: %v allocations per op, budget %v", c.name, got, c.max)
		}
	}
}
