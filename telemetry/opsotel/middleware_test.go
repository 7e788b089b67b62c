package opsotel_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/telemetry"
	"github.com/igniter-go/store/telemetry/opsotel"
)

type rig struct {
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
	mw     ops.Middleware
}

func newRig(t *testing.T) *rig {
	r := &rig{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(r.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r.reader))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) })
	r.mw = opsotel.New(opsotel.WithTracerProvider(tp), opsotel.WithMeterProvider(mp),
		opsotel.WithServerAddress("cache.internal", 6380)).Middleware()
	return r
}

func attrMap(kvs []attribute.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.Emit()
	}
	return m
}

var scopedGet = ops.Op{Kind: ops.KVGet, Service: "shop", ScopeKey: "tenant", ScopeDepth: 1,
	Key: "igniter:store:shop:tenant:t_1:kv:cart"}

func TestOneClientSpanPerOpWithSemanticConventions(t *testing.T) {
	r := newRig(t)
	calls := 0
	var inner trace.SpanContext
	// next tries twice, as retry inside the telemetry slot would: still one span.
	h := r.mw(func(ctx context.Context, op ops.Op) (ops.Result, error) {
		inner = trace.SpanContextFromContext(ctx)
		for range 2 {
			calls++
		}
		return ops.Result{Bool: true}, nil
	})
	if _, err := h(context.Background(), scopedGet); err != nil {
		t.Fatal(err)
	}
	spans := r.spans.Ended()
	if len(spans) != 1 || calls != 2 {
		t.Fatalf("%d spans for %d attempts", len(spans), calls)
	}
	s := spans[0]
	if s.Name() != "kv.get" || s.SpanKind() != trace.SpanKindClient || s.Status().Code != codes.Unset {
		t.Fatalf("span %q kind %v status %v", s.Name(), s.SpanKind(), s.Status())
	}
	if inner.SpanID() != s.SpanContext().SpanID() {
		t.Fatal("next does not run inside the span")
	}
	want := map[string]string{
		"db.system.name": "redis", "db.operation.name": "GET", "server.address": "cache.internal", "server.port": "6380",
		"igniter.store.service": "shop", "igniter.store.namespace": "kv",
		"igniter.store.scope_key": "tenant", "igniter.store.scope_depth": "1",
	}
	got := attrMap(s.Attributes())
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("extra attributes: %v", got)
	}
}

func TestFailuresSetErrorTypeAndStatusMissesDoNot(t *testing.T) {
	r := newRig(t)
	fail := r.mw(func(context.Context, ops.Op) (ops.Result, error) {
		return ops.Result{}, ops.Failure(ops.KVGet, ops.ErrUnavailable, io.EOF)
	})
	miss := r.mw(func(context.Context, ops.Op) (ops.Result, error) {
		return ops.Result{}, ops.NewError(ops.CodeSchemaChannelNotFound, "events.publish", "no schema", nil)
	})
	foreign := r.mw(func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{}, io.EOF })
	// A release by a non-owner is an answer (a conflict), not a failure.
	notOwner := r.mw(func(context.Context, ops.Op) (ops.Result, error) {
		return ops.Result{}, ops.NewError(ops.CodeClaimNotOwner, "claim.release", "held by another owner", nil)
	})
	_, _ = fail(context.Background(), scopedGet)
	_, _ = miss(context.Background(), scopedGet)
	_, _ = foreign(context.Background(), scopedGet)
	_, _ = notOwner(context.Background(), scopedGet)
	spans := r.spans.Ended()
	if len(spans) != 4 {
		t.Fatalf("%d spans", len(spans))
	}
	for i, w := range []struct {
		code  codes.Code
		etype string
	}{{codes.Error, "STORE_CONNECTION_FAILED"}, {codes.Unset, ""}, {codes.Error, "_OTHER"}, {codes.Unset, ""}} {
		s := spans[i]
		if s.Status().Code != w.code || attrMap(s.Attributes())["error.type"] != w.etype {
			t.Errorf("span %d: status %v error.type %q, want %v %q", i, s.Status(), attrMap(s.Attributes())["error.type"], w.code, w.etype)
		}
		if len(s.Events()) != 0 {
			t.Errorf("span %d has events %v: errors are not recorded with their text", i, s.Events())
		}
	}
}

func TestDurationHistogram(t *testing.T) {
	r := newRig(t)
	ok := r.mw(func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{}, nil })
	fail := r.mw(func(context.Context, ops.Op) (ops.Result, error) {
		return ops.Result{}, ops.Failure(ops.KVGet, ops.ErrUnavailable, io.EOF)
	})
	_, _ = ok(context.Background(), scopedGet)
	_, _ = ok(context.Background(), scopedGet)
	_, _ = fail(context.Background(), scopedGet)
	var rm metricdata.ResourceMetrics
	if err := r.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	if len(rm.ScopeMetrics) != 1 || len(rm.ScopeMetrics[0].Metrics) != 1 {
		t.Fatalf("metrics: %+v", rm.ScopeMetrics)
	}
	m := rm.ScopeMetrics[0].Metrics[0]
	if m.Name != "db.client.operation.duration" || m.Unit != "s" {
		t.Fatalf("metric %s in %s", m.Name, m.Unit)
	}
	h := m.Data.(metricdata.Histogram[float64])
	counts := map[string]uint64{}
	for _, dp := range h.DataPoints {
		if dp.Bounds[0] != 0.0001 {
			t.Errorf("first bucket %v, want 100µs", dp.Bounds[0])
		}
		a := attrMap(dp.Attributes.ToSlice())
		if a["db.system.name"] != "redis" || a["igniter.store.operation"] != "kv.get" || a["server.port"] != "6380" {
			t.Errorf("attributes %v", a)
		}
		if _, ok := a["igniter.store.scope_key"]; ok {
			t.Error("the scope key is a span attribute, not a metric label")
		}
		counts[a["error.type"]] += dp.Count
	}
	if counts[""] != 2 || counts["STORE_CONNECTION_FAILED"] != 1 {
		t.Fatalf("counts by error.type %v", counts)
	}
}

func TestSpanEventSinkPutsCatalogEventsOnTheOpSpan(t *testing.T) {
	r := newRig(t)
	events := telemetry.New(opsotel.NewSpanEventSink(slog.LevelDebug))
	h := ops.Chain(r.mw, events)(func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{Bool: true}, nil })
	_, _ = h(context.Background(), scopedGet)
	evs := r.spans.Ended()[0].Events()
	if len(evs) != 2 || evs[0].Name != "igniter.store.kv.get.started" || evs[1].Name != "igniter.store.kv.get.success" {
		t.Fatalf("events %v", evs)
	}
	if a := attrMap(evs[1].Attributes); a["ctx.kv.found"] != "true" || a["ctx.store.scope_key"] != "tenant" || a["level"] != "DEBUG" {
		t.Fatalf("attributes %v", a)
	}
	warn := opsotel.NewSpanEventSink(slog.LevelWarn)
	if warn.Enabled(context.Background(), slog.LevelError) {
		t.Fatal("enabled without a span")
	}
}
