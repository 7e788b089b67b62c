package telemetry_test

import (
	"context"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/events"
	"github.com/igniter-go/store/storetest"
	"github.com/igniter-go/store/streams"
	"github.com/igniter-go/store/telemetry/opsotel"
)

// TestConsumersContinueTheProducersTrace publishes an event and appends a stream entry inside a
// producer span: the subscriber's and the consumer's handlers run in contexts of the same
// trace, whose parent is a producer span.
func TestConsumersContinueTheProducersTrace(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	st := storetest.New(t, storetest.WithBuilder(func(b *client.Builder) *client.Builder {
		return b.WithService("shop").WithTracing(opsotel.New(opsotel.WithTracerProvider(tp)))
	}))

	got := map[string]chan trace.SpanContext{"subscriber": make(chan trace.SpanContext, 1), "consumer": make(chan trace.SpanContext, 1)}
	sub, err := st.Events.Subscribe(ctx, "order:placed", func(ctx context.Context, _ events.Message) error {
		got["subscriber"] <- trace.SpanContextFromContext(ctx)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()

	pctx, producer := tp.Tracer("test").Start(ctx, "checkout")
	if err := st.Events.Publish(pctx, "order:placed", map[string]int{"n": 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Streams.Append(pctx, "orders", map[string]int{"n": 1}, streams.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	producer.End()

	g := st.Streams.Group("billing", "w1")
	cctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- g.Consume(cctx, "orders", func(ctx context.Context, _ streams.Entry) error {
			got["consumer"] <- trace.SpanContextFromContext(ctx)
			stop()
			return nil
		}, streams.ConsumeOptions{EnsureStartID: "0", Block: 10 * time.Millisecond})
	}()
	if err := <-done; err != nil {
		t.Fatalf("consume: %v", err)
	}

	parents := map[trace.SpanID]string{}
	for _, s := range spans.Ended() {
		parents[s.SpanContext().SpanID()] = s.Name()
	}
	for _, name := range []string{"subscriber", "consumer"} {
		var sc trace.SpanContext
		select {
		case sc = <-got[name]:
		case <-ctx.Done():
			t.Fatalf("no %s call", name)
		}
		if sc.TraceID() != producer.SpanContext().TraceID() {
			t.Fatalf("%s runs in trace %s, the producer in %s", name, sc.TraceID(), producer.SpanContext().TraceID())
		}
		// The envelope is built before the chain runs, so a subscriber continues the caller's
		// span; a stream entry's trace is injected inside the chain, under stream.append.
		if p := parents[sc.SpanID()]; p != "checkout" && p != "events.publish" && p != "stream.append" {
			t.Errorf("%s's parent span is %q, want a span of the producer", name, p)
		}
	}
}
