package opsotel_test

import (
	"context"
	"slices"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/telemetry/opsotel"
)

// Options given zero values mean their defaults: nil or empty buckets are DefaultBuckets, an
// empty host leaves the server attributes out, an empty namespace leaves db.namespace out, no
// optional attributes and false sampler attributes add nothing, a nil option is skipped.
func TestOptionZeroValuesMeanDefaults(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    []opsotel.Option
		buckets []float64
		server  bool
		ns      bool
	}{
		{"no options", nil, opsotel.DefaultBuckets, false, false},
		{"nil buckets", []opsotel.Option{opsotel.WithBuckets(nil)}, opsotel.DefaultBuckets, false, false},
		{"empty buckets", []opsotel.Option{opsotel.WithBuckets([]float64{})}, opsotel.DefaultBuckets, false, false},
		{"own buckets", []opsotel.Option{opsotel.WithBuckets([]float64{0.5, 1})}, []float64{0.5, 1}, false, false},
		{"empty host", []opsotel.Option{opsotel.WithServerAddress("", 6379)}, opsotel.DefaultBuckets, false, false},
		{"host", []opsotel.Option{opsotel.WithServerAddress("redis", 0)}, opsotel.DefaultBuckets, true, false},
		{"empty namespace", []opsotel.Option{opsotel.WithDBNamespace("")}, opsotel.DefaultBuckets, false, false},
		{"namespace", []opsotel.Option{opsotel.WithDBNamespace("0")}, opsotel.DefaultBuckets, false, true},
		{"no span attrs", []opsotel.Option{opsotel.WithSpanAttrs(0), opsotel.WithSamplerAttributes(false)}, opsotel.DefaultBuckets, false, false},
		{"nil option", []opsotel.Option{nil}, opsotel.DefaultBuckets, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spans, reader := tracetest.NewSpanRecorder(), sdkmetric.NewManualReader()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
			defer func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) }()
			opts := append([]opsotel.Option{opsotel.WithTracerProvider(tp), opsotel.WithMeterProvider(mp)}, tc.opts...)
			h := opsotel.New(opts...).Middleware()(func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{}, nil })
			if _, err := h(context.Background(), ops.Op{Kind: ops.KVGet, Service: "api"}); err != nil {
				t.Fatal(err)
			}
			attrs := attrMap(spans.Ended()[0].Attributes())
			if _, ok := attrs["server.address"]; ok != tc.server {
				t.Errorf("server.address present = %v, want %v (%v)", ok, tc.server, attrs)
			}
			if _, ok := attrs["db.namespace"]; ok != tc.ns {
				t.Errorf("db.namespace present = %v, want %v (%v)", ok, tc.ns, attrs)
			}
			if len(attrs) != 2+btoi(tc.server)+btoi(tc.ns) {
				t.Errorf("attributes %v", attrs)
			}
			if _, ok := attrs["server.port"]; ok {
				t.Errorf("server.port present: %v", attrs)
			}
			var rm metricdata.ResourceMetrics
			if err := reader.Collect(context.Background(), &rm); err != nil {
				t.Fatal(err)
			}
			h0 := rm.ScopeMetrics[0].Metrics[0].Data.(metricdata.Histogram[float64])
			if got := h0.DataPoints[0].Bounds; !slices.Equal(got, tc.buckets) {
				t.Errorf("buckets %v, want %v", got, tc.buckets)
			}
		})
	}
}

// WithBuckets copies its slice: changing it afterwards changes nothing.
func TestWithBucketsCopies(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = mp.Shutdown(context.Background()) }()
	mine := []float64{1, 2}
	opt := opsotel.WithBuckets(mine)
	mine[0] = 99
	h := opsotel.New(opsotel.WithMeterProvider(mp), opt).Middleware()(func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{}, nil })
	_, _ = h(context.Background(), ops.Op{Kind: ops.KVGet})
	var rm metricdata.ResourceMetrics
	_ = reader.Collect(context.Background(), &rm)
	if got := rm.ScopeMetrics[0].Metrics[0].Data.(metricdata.Histogram[float64]).DataPoints[0].Bounds; !slices.Equal(got, []float64{1, 2}) {
		t.Fatalf("bounds %v", got)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
