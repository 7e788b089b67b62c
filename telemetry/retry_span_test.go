package telemetry_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/middleware/retry"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/telemetry"
	"github.com/igniter-go/store/telemetry/opsotel"
	"github.com/igniter-go/store/telemetry/opsprom"
)

// TestOneSpanCoversRetries builds a store whose executor fails twice with an unavailable error
// and then answers: the logical kv.get is one span carrying two retry events, one started and
// one success event, one Prometheus operation and two retries.
func TestOneSpanCoversRetries(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) }()
	rec := telemetry.NewRecorder()
	prom := opsprom.New()

	attempts := 0
	exec := func(_ context.Context, op ops.Op) (ops.Result, error) {
		attempts++
		if attempts < 3 {
			return ops.Result{}, ops.Failure(op.Kind, ops.ErrUnavailable, io.ErrUnexpectedEOF)
		}
		return ops.Result{Value: []byte(`1`), Bool: true}, nil
	}
	st, err := client.New().WithService("shop").WithAdapter(client.HandlerAdapter(exec)).
		WithRetry(retry.Policy{MaxAttempts: 3, Backoff: retry.Constant(0)}).
		WithTelemetry(rec).WithMetrics(prom).
		WithTracing(opsotel.New(opsotel.WithTracerProvider(tp), opsotel.WithMeterProvider(mp))).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, found, err := st.KV.GetRaw(context.Background(), "k"); !found || err != nil {
		t.Fatal(found, err)
	}
	if attempts != 3 {
		t.Fatalf("%d attempts", attempts)
	}
	ended := spans.Ended()
	if len(ended) != 1 {
		t.Fatalf("%d spans for one logical operation", len(ended))
	}
	var retries int
	for _, e := range ended[0].Events() {
		if e.Name == "igniter.store.retry.attempt" {
			retries++
		}
	}
	if retries != 2 {
		t.Fatalf("span events %v, want 2 retry events", ended[0].Events())
	}
	want := []string{"igniter.store.kv.get.started", "igniter.store.retry.attempt", "igniter.store.retry.attempt", "igniter.store.kv.get.success"}
	if got := rec.Names(); !equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	// Build prepared a zero series for every operation (opsprom.Metrics.Prepare); kv.get has 2.
	wantProm := `
# HELP igniter_store_retries_total Attempts that failed and were retried.
# TYPE igniter_store_retries_total counter
`
	for _, k := range ops.Kinds() {
		n := map[bool]string{true: "2", false: "0"}[k == ops.KVGet]
		wantProm += `igniter_store_retries_total{operation="` + k.Operation() + `",service="shop"} ` + n + "\n"
	}
	if err := testutil.CollectAndCompare(prom, strings.NewReader(wantProm), opsprom.MetricRetries); err != nil {
		t.Fatal(err)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestTracingIsOutermostWhateverTheCallOrder wires the span-event sink before WithTracing: the
// events still land on the operation's span, so tracing wraps the events middleware.
func TestTracingIsOutermostWhateverTheCallOrder(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	mp := sdkmetric.NewMeterProvider()
	defer func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) }()
	exec := func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{}, nil }
	st, err := client.New().WithService("shop").WithAdapter(client.HandlerAdapter(exec)).
		WithTelemetry(opsotel.NewSpanEventSink(slog.LevelDebug)).
		WithTracing(opsotel.New(opsotel.WithTracerProvider(tp), opsotel.WithMeterProvider(mp))).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_ = st.KV.Remove(context.Background(), "k")
	ended := spans.Ended()
	if len(ended) != 1 || len(ended[0].Events()) != 2 || ended[0].Events()[0].Name != "igniter.store.kv.remove.started" {
		t.Fatalf("spans %d, events %v", len(ended), ended[0].Events())
	}
}
