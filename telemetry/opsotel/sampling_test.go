package opsotel_test

import (
	"context"
	"io"
	"maps"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/telemetry/opsotel"
)

// seeingSampler records the attributes each sampling decision was given and samples every
// other span, starting with the first.
type seeingSampler struct {
	mu   sync.Mutex
	seen [][]attribute.KeyValue
}

func (s *seeingSampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen = append(s.seen, append([]attribute.KeyValue(nil), p.Attributes...))
	d := sdktrace.Drop
	if len(s.seen)%2 == 1 {
		d = sdktrace.RecordAndSample
	}
	return sdktrace.SamplingResult{Decision: d, Tracestate: trace.SpanContextFromContext(p.ParentContext).TraceState()}
}

func (*seeingSampler) Description() string { return "seeing" }

// By default samplers see no attribute and recorded spans get them all after the decision; with
// WithSamplerAttributes(true) samplers see the conventions' sampling attributes (and only
// those), and recorded spans end with the same attributes either way.
func TestSamplerAttributes(t *testing.T) {
	all := map[string]string{"db.system.name": "redis", "db.operation.name": "GET", "server.address": "cache.internal",
		"server.port": "6380", "db.namespace": "3", "igniter.store.service": "shop"}
	for _, atStart := range []bool{false, true} {
		s := &seeingSampler{}
		spans := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(s), sdktrace.WithSpanProcessor(spans))
		h := opsotel.New(opsotel.WithTracerProvider(tp), opsotel.WithServerAddress("cache.internal", 6380),
			opsotel.WithDBNamespace("3"), opsotel.WithSpanAttrs(opsotel.SpanService), opsotel.WithSamplerAttributes(atStart)).
			Middleware()(func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{}, nil })
		for range 4 {
			_, _ = h(context.Background(), scopedGet)
		}
		_ = tp.Shutdown(context.Background())
		if len(s.seen) != 4 {
			t.Fatalf("atStart %v: %d sampling decisions", atStart, len(s.seen))
		}
		for i, seen := range s.seen {
			got := attrMap(seen)
			if !atStart && len(got) != 0 {
				t.Errorf("decision %d: the sampler saw %v", i, got)
			}
			if atStart {
				want := map[string]string{"db.system.name": "redis", "db.operation.name": "GET",
					"server.address": "cache.internal", "server.port": "6380", "db.namespace": "3"}
				if !maps.Equal(got, want) {
					t.Errorf("decision %d: the sampler saw %v, want %v", i, got, want)
				}
			}
		}
		ended := spans.Ended()
		if len(ended) != 2 {
			t.Fatalf("atStart %v: %d recorded spans, want 2 of 4", atStart, len(ended))
		}
		for _, sp := range ended {
			wantAttrs(t, sp, all)
		}
	}
}

// replyError is an error reply as go-redis returns it (redis.Error).
type replyError string

func (e replyError) Error() string { return string(e) }
func (replyError) RedisError()     {}

// A failure from an error reply carries db.response.status_code, the reply's prefix, on the
// span and the duration metric; other failures carry only error.type. A first word that is not
// an upper-case prefix (data, an error of the store's own posing as a reply) gives no code.
func TestResponseStatusCode(t *testing.T) {
	for _, tc := range []struct {
		cause error
		code  string
	}{
		{replyError("WRONGTYPE Operation against a key holding the wrong kind of value"), "WRONGTYPE"},
		{replyError("ERR value is not an integer or out of range"), "ERR"},
		{replyError("NOSCRIPT"), "NOSCRIPT"},
		{replyError("SEARCH_TIMEOUT query timed out"), "SEARCH_TIMEOUT"},
		{replyError("igniter store: command dropped before it was written"), ""},
		{replyError("s3cr3t-T0KEN-4f9a is what the script returned"), ""},
		{replyError("TOKENABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGH x"), ""}, // longer than a prefix
		{replyError("_ERR x"), ""},
		{replyError("ERR1 x"), ""},
		{replyError(""), ""},
		{io.EOF, ""},
	} {
		spans, reader := tracetest.NewSpanRecorder(), sdkmetric.NewManualReader()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		h := opsotel.New(opsotel.WithTracerProvider(tp), opsotel.WithMeterProvider(mp)).Middleware()(
			func(context.Context, ops.Op) (ops.Result, error) {
				return ops.Result{}, ops.Failure(ops.CounterIncrement, ops.ErrFailed, tc.cause)
			})
		_, _ = h(context.Background(), ops.Op{Kind: ops.CounterIncrement, Service: "shop"})
		var rm metricdata.ResourceMetrics
		if err := reader.Collect(context.Background(), &rm); err != nil {
			t.Fatal(err)
		}
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
		s := spans.Ended()[0]
		attrs := attrMap(s.Attributes())
		point := attrMap(rm.ScopeMetrics[0].Metrics[0].Data.(metricdata.Histogram[float64]).DataPoints[0].Attributes.ToSlice())
		for where, a := range map[string]map[string]string{"span": attrs, "metric": point} {
			got, ok := a["db.response.status_code"]
			if got != tc.code || ok != (tc.code != "") {
				t.Errorf("%q: %s db.response.status_code %q (present %v), want %q", tc.cause, where, got, ok, tc.code)
			}
			if a["error.type"] != "STORE_INCREMENT_FAILED" {
				t.Errorf("%q: %s error.type %q", tc.cause, where, a["error.type"])
			}
		}
		if s.Status().Code != codes.Error || s.Status().Description != "STORE_INCREMENT_FAILED" {
			t.Errorf("%q: status %v", tc.cause, s.Status())
		}
	}
}

// A span the sampler drops carries nothing and the operation still runs inside its span
// context (so trace context still propagates, unsampled, to what the operation calls); the
// duration metric still counts the failure with its error.type.
func TestUnrecordedSpan(t *testing.T) {
	spans, reader := tracetest.NewSpanRecorder(), sdkmetric.NewManualReader()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()), sdktrace.WithSpanProcessor(spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) }()
	var inner trace.SpanContext
	h := opsotel.New(opsotel.WithTracerProvider(tp), opsotel.WithMeterProvider(mp)).Middleware()(func(ctx context.Context, op ops.Op) (ops.Result, error) {
		inner = trace.SpanContextFromContext(ctx)
		return ops.Result{}, ops.Failure(ops.KVGet, ops.ErrUnavailable, io.EOF)
	})
	if _, err := h(context.Background(), scopedGet); !ops.HasCode(err, ops.CodeConnectionFailed) {
		t.Fatalf("error %v", err)
	}
	if !inner.IsValid() || inner.IsSampled() {
		t.Fatalf("the operation ran under %v, want a valid unsampled span context", inner)
	}
	if n := len(spans.Ended()) + len(spans.Started()); n != 0 {
		t.Fatalf("%d spans reached the processor", n)
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	dps := rm.ScopeMetrics[0].Metrics[0].Data.(metricdata.Histogram[float64]).DataPoints
	if len(dps) != 1 || dps[0].Count != 1 || attrMap(dps[0].Attributes.ToSlice())["error.type"] != "STORE_CONNECTION_FAILED" {
		t.Fatalf("duration points %+v", dps)
	}
}
