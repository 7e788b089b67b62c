package opsotel_test

import (
	"context"
	"fmt"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/telemetry/opsotel"
)

// One CLIENT span per operation, with the database conventions' attributes and, opted in, the
// store's.
func ExampleTracer_Middleware() {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer func() { _ = tp.Shutdown(context.Background()) }()

	exec := func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{}, nil }
	h := opsotel.New(opsotel.WithTracerProvider(tp), opsotel.WithServerAddress("redis.internal", 6379),
		opsotel.WithSpanAttrs(opsotel.SpanScope)).Middleware()(exec)
	_, _ = h(context.Background(), ops.Op{Kind: ops.KVSet, Service: "api", ScopeKey: "organization", ScopeDepth: 1,
		Key: "igniter:store:api:organization:org_1:kv:profile"})

	s := spans.Ended()[0]
	fmt.Println(s.Name(), s.SpanKind())
	for _, kv := range s.Attributes() {
		fmt.Printf("%s=%s\n", kv.Key, kv.Value.Emit())
	}
	// Output:
	// kv.set client
	// db.system.name=redis
	// db.operation.name=SET
	// server.address=redis.internal
	// server.port=6379
	// igniter.store.scope_key=organization
	// igniter.store.scope_depth=1
}

// The carrier moves W3C trace context through Redis.
func ExampleTraceCarrier() {
	tp := sdktrace.NewTracerProvider()
	defer func() { _ = tp.Shutdown(context.Background()) }()
	ctx, span := tp.Tracer("producer").Start(context.Background(), "publish")
	defer span.End()

	var c opsotel.TraceCarrier
	carried := c.Inject(ctx) // travels in the event envelope or stream entry
	consumer := c.Extract(context.Background(), carried)
	fmt.Println(len(carried), span.SpanContext().TraceID() == traceID(consumer))
	// Output: 55 true
}

func traceID(ctx context.Context) trace.TraceID { return trace.SpanContextFromContext(ctx).TraceID() }
