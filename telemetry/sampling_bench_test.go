package telemetry_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"go.opentelemetry.io/otel/metric/noop"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/telemetry"
	"github.com/igniter-go/store/telemetry/opsotel"
	"github.com/igniter-go/store/telemetry/opsprom"
)

// BenchmarkOTelSampling measures what tracing costs per operation under the samplers users run,
// with the tracer's default options (opsotel.New with only its providers) and the meter of a
// service that has none (the noop meter, the global default), on a no-op executor:
//
//   - untraced: the chain of a store with metrics and events, no tracer (the baseline);
//   - parent-10pct: ParentBased(TraceIDRatioBased(0.1)), the common production setting, for
//     an operation with no parent span (root, 10 % recorded), under an unsampled parent (none
//     recorded: most requests of a service whose edge sampled 10 %) and under a sampled parent;
//   - always, never: every span recorded, none recorded.
//
// Each traced case runs twice: the tracer alone ("otel/…") and the tracer in front of the
// metrics and events a store has ("chain/…", to compare with "untraced"). sdk-floor cases only
// start and end a span with no attribute: what the SDK costs and no middleware goes below.
//
//	go test -run '^$' -bench 'OTelSampling' -benchmem ./telemetry/
func BenchmarkOTelSampling(b *testing.B) {
	noopExec := func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{Bool: true}, nil }
	op := ops.Op{Kind: ops.KVGet, Service: "shop", ScopeKey: "tenant", ScopeDepth: 1,
		Key: "igniter:store:shop:tenant:t_1:kv:cart", Idempotent: true}
	infoLog := telemetry.NewSlogSink(slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo})))
	base := ops.Chain(opsprom.New().Middleware(), telemetry.New(infoLog))
	mp := noop.NewMeterProvider()

	provider := func(s sdktrace.Sampler) *sdktrace.TracerProvider {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(s), sdktrace.WithBatcher(tracetest.NewNoopExporter()))
		b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
		return tp
	}
	parent10 := provider(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.1)))
	always := provider(sdktrace.AlwaysSample())
	never := provider(sdktrace.NeverSample())

	root := context.Background()
	unsampledParent := trace.ContextWithRemoteSpanContext(root, remoteParent(0))
	sampledParent := trace.ContextWithRemoteSpanContext(root, remoteParent(trace.FlagsSampled))

	otel := func(tp trace.TracerProvider) ops.Middleware {
		return opsotel.New(opsotel.WithTracerProvider(tp), opsotel.WithMeterProvider(mp)).Middleware()
	}
	type tcase struct {
		name string
		tp   trace.TracerProvider // nil: untraced
		ctx  context.Context
	}
	cases := []tcase{
		{"parent-10pct/root", parent10, root},
		{"parent-10pct/unsampled-parent", parent10, unsampledParent},
		{"parent-10pct/sampled-parent", parent10, sampledParent},
		{"always", always, root},
		{"never", never, root},
	}
	run := func(name string, h ops.Handler, ctx context.Context) {
		b.Run(name, func(b *testing.B) { loop(b, ctx, h, op) })
	}
	run("untraced", base(noopExec), root)
	for _, c := range cases {
		run("chain/"+c.name, ops.Chain(otel(c.tp), base)(noopExec), c.ctx)
	}
	for _, c := range cases {
		run("otel/"+c.name, otel(c.tp)(noopExec), c.ctx)
	}
	run("sdk-floor/never", sdkFloor(never)(noopExec), root)
	run("sdk-floor/parent-10pct/unsampled-parent", sdkFloor(parent10)(noopExec), unsampledParent)
	run("sdk-floor/always", sdkFloor(always)(noopExec), root)
}

// loop runs h on op until b is done and reports, beside ns/op, cpu-ns/op: the CPU time of the
// process per operation (user and system, every goroutine's: the batch span processor's
// included). A loaded machine's waits for a CPU inflate the wall time of ns/op, not cpu-ns/op.
func loop(b *testing.B, ctx context.Context, h ops.Handler, op ops.Op) {
	b.ReportAllocs()
	c0 := cpuTime()
	for b.Loop() {
		_, _ = h(ctx, op)
	}
	if c := cpuTime() - c0; c > 0 {
		b.ReportMetric(float64(c.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// remoteParent is the span context of an upstream service's span with the given flags.
func remoteParent(flags trace.TraceFlags) trace.SpanContext {
	return trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:     trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
		TraceFlags: flags,
		Remote:     true,
	})
}

// BenchmarkSpanAttrs measures what each span attribute costs a recorded span (always sampled)
// and an unrecorded one (never sampled): the tracer alone on a no-op executor and the noop
// meter, for an operation with a name (a publish) on a scoped store, so every optional attribute
// applies. Ended spans go to a span processor that drops them at once, so the figures hold the
// SDK's work on a span (its attributes set, copied and deduplicated at End) and no batch
// processor goroutine's varying share. The cost of an attribute is its case minus "default";
// sdk-floor is a span with no attribute at all.
//
//	go test -run '^$' -bench 'SpanAttrs' -benchmem ./telemetry/
func BenchmarkSpanAttrs(b *testing.B) {
	noopExec := func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{Bool: true}, nil }
	reply := replyError("WRONGTYPE Operation against a key holding the wrong kind of value")
	failExec := func(context.Context, ops.Op) (ops.Result, error) {
		return ops.Result{}, ops.Failure(ops.EventsPublish, ops.ErrFailed, reply)
	}
	op := ops.Op{Kind: ops.EventsPublish, Service: "shop", ScopeKey: "tenant", ScopeDepth: 1, Name: "card:added",
		Key: "igniter:store:shop:tenant:t_1:events:card:added"}
	mp := noop.NewMeterProvider()
	provider := func(s sdktrace.Sampler) *sdktrace.TracerProvider {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(s), sdktrace.WithSpanProcessor(dropProcessor{}))
		b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
		return tp
	}
	always, never := provider(sdktrace.AlwaysSample()), provider(sdktrace.NeverSample())
	server := opsotel.WithServerAddress("redis.internal", 6380)
	every := []opsotel.Option{server, opsotel.WithDBNamespace("0"), opsotel.WithSpanAttrs(opsotel.SpanStore)}
	cases := []struct {
		name string
		opts []opsotel.Option
		exec ops.Handler
	}{
		{"default", nil, noopExec},
		{"server.address+port", []opsotel.Option{server}, noopExec},
		{"db.namespace", []opsotel.Option{opsotel.WithDBNamespace("0")}, noopExec},
		{"service", []opsotel.Option{opsotel.WithSpanAttrs(opsotel.SpanService)}, noopExec},
		{"namespace", []opsotel.Option{opsotel.WithSpanAttrs(opsotel.SpanNamespace)}, noopExec},
		{"scope", []opsotel.Option{opsotel.WithSpanAttrs(opsotel.SpanScope)}, noopExec},
		{"name", []opsotel.Option{opsotel.WithSpanAttrs(opsotel.SpanName)}, noopExec},
		{"store", []opsotel.Option{opsotel.WithSpanAttrs(opsotel.SpanStore)}, noopExec},
		{"every", every, noopExec},
		{"sampler-attributes", []opsotel.Option{opsotel.WithSamplerAttributes(true)}, noopExec},
		{"failure", nil, failExec},
	}
	ctx := context.Background()
	for _, s := range []struct {
		name string
		tp   *sdktrace.TracerProvider
	}{{"always", always}, {"never", never}} {
		for _, c := range cases {
			if s.tp == never && c.name != "default" && c.name != "every" && c.name != "sampler-attributes" && c.name != "failure" {
				continue // the same as default: nothing is built for an unrecorded span
			}
			h := opsotel.New(append([]opsotel.Option{opsotel.WithTracerProvider(s.tp), opsotel.WithMeterProvider(mp)}, c.opts...)...).Middleware()(c.exec)
			b.Run(s.name+"/"+c.name, func(b *testing.B) { loop(b, ctx, h, op) })
		}
		h := sdkFloor(s.tp)(noopExec)
		b.Run(s.name+"/sdk-floor", func(b *testing.B) { loop(b, ctx, h, op) })
	}
}

// replyError is an error reply as go-redis returns it (redis.Error).
type replyError string

func (e replyError) Error() string { return string(e) }
func (replyError) RedisError()     {}
