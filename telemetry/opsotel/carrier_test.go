package opsotel_test

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/igniter-go/store/telemetry/opsotel"
)

func TestCarrierLinksConsumerSpansToTheProducer(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	tr := tp.Tracer("test")
	var c opsotel.TraceCarrier

	if got := c.Inject(context.Background()); got != "" {
		t.Fatalf("no span, carried %q", got)
	}
	pctx, producer := tr.Start(context.Background(), "publish")
	ts, _ := trace.ParseTraceState("vendor=a;b")
	pctx = trace.ContextWithSpanContext(pctx, producer.SpanContext().WithTraceState(ts))
	carried := c.Inject(pctx)
	producer.End()

	cctx := c.Extract(context.Background(), carried)
	remote := trace.SpanContextFromContext(cctx)
	if !remote.IsRemote() || remote.TraceID() != producer.SpanContext().TraceID() || remote.SpanID() != producer.SpanContext().SpanID() {
		t.Fatalf("carried %q extracted %v", carried, remote)
	}
	if remote.TraceState().Get("vendor") != "a;b" {
		t.Fatalf("tracestate %q lost in %q", remote.TraceState(), carried)
	}
	_, consumer := tr.Start(cctx, "handle")
	consumer.End()
	if consumer.(sdktrace.ReadOnlySpan).Parent().SpanID() != producer.SpanContext().SpanID() {
		t.Fatal("the consumer span is not a child of the producer")
	}
	if got := c.Extract(context.Background(), "garbage"); trace.SpanContextFromContext(got).IsValid() {
		t.Fatal("garbage extracted a span context")
	}
}
