package telemetry_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/igniter-go/store/client"
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
	otelMW := opsotel.New(opsotel.WithTracerProvider(tp), opsotel.WithMeterProvider(mp), opsotel.WithServerAddress("localhost", 6379)).Middleware()
	// The same, with a span processor that drops ended spans at once: the batch processor's
	// hand-off to its goroutine left out.
	tpDirect := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithSpanProcessor(dropProcessor{}))
	defer func() { _ = tpDirect.Shutdown(context.Background()) }()
	otelDirect := opsotel.New(opsotel.WithTracerProvider(tpDirect), opsotel.WithMeterProvider(mp), opsotel.WithServerAddress("localhost", 6379)).Middleware()
	prom := opsprom.New()

	cases := []struct {
		name string
		mw   ops.Middleware
	}{
		{"none", ops.Chain()},
		{"metrics+events", ops.Chain(prom.Middleware(), telemetry.New(infoLog))},
		{"metrics+events+otel", ops.Chain(otelMW, prom.Middleware(), telemetry.New(infoLog))},
		{"metrics+events-enabled", ops.Chain(prom.Middleware(), telemetry.New(discardSink{}))},
		{"events-debug-json", telemetry.New(debugLog)},
		{"events-multi-disabled", telemetry.New(telemetry.Multi(infoLog, infoLog))},
		{"otel", otelMW},
		{"otel-naive", naiveOtel(tp, mp)},
		{"otel-sdk-span-floor", sdkFloor(tp, spanAttrs...)},
		{"otel-sdk-span-1-attribute", sdkFloor(tp, spanAttrs[0])},
		{"otel-sdk-span-0-attributes", sdkFloor(tp)},
		{"metrics+events+otel-drop-processor", ops.Chain(otelDirect, prom.Middleware(), telemetry.New(infoLog))},
		{"otel-drop-processor", otelDirect},
		{"otel-sdk-span-floor-drop-processor", sdkFloor(tpDirect, spanAttrs...)},
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

// naiveOtel is the usual hand-written OTel middleware, for comparison: attributes built on
// every call, as a go-redis hook builds them.
func naiveOtel(tp trace.TracerProvider, mp metric.MeterProvider) ops.Middleware {
	tr := tp.Tracer("naive")
	hist, _ := mp.Meter("naive").Float64Histogram("db.client.operation.duration")
	return func(next ops.Handler) ops.Handler {
		return func(ctx context.Context, op ops.Op) (ops.Result, error) {
			start := time.Now()
			attrs := []attribute.KeyValue{
				attribute.String("db.system.name", "redis"), attribute.String("db.operation.name", op.Kind.Command()),
				attribute.String("server.address", "localhost"), attribute.Int("server.port", 6379),
				attribute.String("igniter.store.service", op.Service), attribute.String("igniter.store.namespace", op.Kind.Group()),
				attribute.String("igniter.store.scope_key", op.ScopeKey), attribute.Int("igniter.store.scope_depth", op.ScopeDepth),
			}
			ctx, span := tr.Start(ctx, op.Kind.Operation(), trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
			res, err := next(ctx, op)
			hist.Record(ctx, time.Since(start).Seconds(), metric.WithAttributes(attrs[:6]...))
			span.End()
			return res, err
		}
	}
}

// discardSink wants every event and drops it: the cost of building the attributes.
type discardSink struct{}

func (discardSink) Enabled(context.Context, slog.Level) bool { return true }
func (discardSink) Emit(context.Context, telemetry.Event)    {}

// sdkFloor only starts and ends a span with the given attributes, precomputed: what the SDK
// itself costs, which no middleware with those attributes can go below.
func sdkFloor(tp trace.TracerProvider, attrs ...attribute.KeyValue) ops.Middleware {
	tr := tp.Tracer("floor")
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient)}
	if len(attrs) > 0 {
		opts = append(opts, trace.WithAttributes(attrs...))
	}
	return func(next ops.Handler) ops.Handler {
		return func(ctx context.Context, op ops.Op) (ops.Result, error) {
			ctx, span := tr.Start(ctx, "kv.get", opts...)
			res, err := next(ctx, op)
			span.End()
			return res, err
		}
	}
}

// spanAttrs are the attributes of the store's span for op in BenchmarkChain (server address and
// scope included).
var spanAttrs = []attribute.KeyValue{
	attribute.String("db.system.name", "redis"), attribute.String("db.operation.name", "GET"),
	attribute.String("server.address", "localhost"), attribute.Int("server.port", 6379),
	attribute.String("igniter.store.service", "shop"), attribute.String("igniter.store.namespace", "kv"),
	attribute.String("igniter.store.scope_key", "tenant"), attribute.Int("igniter.store.scope_depth", 1),
}

// BenchmarkStore measures the same outputs through a whole store (its default timeout, retry and
// breaker middleware included) over a no-op executor: a scoped KV.GetRaw.
//
//	go test -run '^$' -bench BenchmarkStore -benchmem -benchtime=1s ./telemetry/
func BenchmarkStore(b *testing.B) {
	noop := func(context.Context, ops.Op) (ops.Result, error) {
		return ops.Result{Value: []byte(`1`), Bool: true}, nil
	}
	infoLog := telemetry.NewSlogSink(slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo})))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) }()
	cases := []struct {
		name string
		wire func(*client.Builder) *client.Builder
	}{
		{"none", func(b *client.Builder) *client.Builder { return b }},
		{"metrics+events", func(b *client.Builder) *client.Builder {
			return b.WithMetrics(opsprom.New()).WithTelemetry(infoLog)
		}},
		{"metrics+events+otel", func(b *client.Builder) *client.Builder {
			return b.WithMetrics(opsprom.New()).WithTelemetry(infoLog).
				WithTracing(opsotel.New(opsotel.WithTracerProvider(tp), opsotel.WithMeterProvider(mp)))
		}},
	}
	ctx := context.Background()
	for _, c := range cases {
		st, err := c.wire(client.New().WithService("shop").WithAdapter(client.HandlerAdapter(noop))).Build()
		if err != nil {
			b.Fatal(err)
		}
		scoped := st.MustScope("tenant", "t_1")
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _, _ = scoped.KV.GetRaw(ctx, "cart")
			}
		})
		_ = st.Close()
	}
}

// dropProcessor is a span processor that does nothing with ended spans.
type dropProcessor struct{}

func (dropProcessor) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (dropProcessor) OnEnd(sdktrace.ReadOnlySpan)                     {}
func (dropProcessor) Shutdown(context.Context) error                  { return nil }
func (dropProcessor) ForceFlush(context.Context) error                { return nil }
