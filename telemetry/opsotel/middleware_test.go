package opsotel_test

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"slices"
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

// newRig returns a tracer with server.address and server.port set, and opts.
func newRig(t *testing.T, opts ...opsotel.Option) *rig {
	r := &rig{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(r.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r.reader))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) })
	r.mw = opsotel.New(append([]opsotel.Option{opsotel.WithTracerProvider(tp), opsotel.WithMeterProvider(mp),
		opsotel.WithServerAddress("cache.internal", 6380)}, opts...)...).Middleware()
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
	// The conventions' attributes only: the store's are opt-in.
	wantAttrs(t, s, map[string]string{
		"db.system.name": "redis", "db.operation.name": "GET", "server.address": "cache.internal", "server.port": "6380",
	})
}

// wantAttrs fails unless the attributes of s are exactly want.
func wantAttrs(t *testing.T, s sdktrace.ReadOnlySpan, want map[string]string) {
	t.Helper()
	got := attrMap(s.Attributes())
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("attributes %v, want %v", got, want)
	}
}

// WithSpanAttrs adds the store's attributes, each group on its own; SpanStore adds them all.
// igniter.store.name is added only to the operations that have a name.
func TestOptionalSpanAttributes(t *testing.T) {
	conv := map[string]string{"db.system.name": "redis", "db.operation.name": "GET", "server.address": "cache.internal", "server.port": "6380"}
	with := func(kv ...string) map[string]string {
		m := maps.Clone(conv)
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	named := ops.Op{Kind: ops.EventsPublish, Service: "shop", ScopeKey: "tenant", ScopeDepth: 2, Name: "card:added",
		Key: "igniter:store:shop:region:eu:tenant:t_1:events:card:added"}
	for _, tc := range []struct {
		name         string
		attrs        opsotel.SpanAttrs
		get, publish map[string]string
	}{
		{"none", 0, conv, with("db.operation.name", "PUBLISH")},
		{"service", opsotel.SpanService, with("igniter.store.service", "shop"),
			with("db.operation.name", "PUBLISH", "igniter.store.service", "shop")},
		{"namespace", opsotel.SpanNamespace, with("igniter.store.namespace", "kv"),
			with("db.operation.name", "PUBLISH", "igniter.store.namespace", "events")},
		{"scope", opsotel.SpanScope, with("igniter.store.scope_key", "tenant", "igniter.store.scope_depth", "1"),
			with("db.operation.name", "PUBLISH", "igniter.store.scope_key", "tenant", "igniter.store.scope_depth", "2")},
		{"name", opsotel.SpanName, conv, with("db.operation.name", "PUBLISH", "igniter.store.name", "card:added")},
		{"store", opsotel.SpanStore,
			with("igniter.store.service", "shop", "igniter.store.namespace", "kv", "igniter.store.scope_key", "tenant", "igniter.store.scope_depth", "1"),
			with("db.operation.name", "PUBLISH", "igniter.store.service", "shop", "igniter.store.namespace", "events",
				"igniter.store.scope_key", "tenant", "igniter.store.scope_depth", "2", "igniter.store.name", "card:added")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, opsotel.WithSpanAttrs(tc.attrs))
			h := r.mw(func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{}, nil })
			_, _ = h(context.Background(), scopedGet)
			_, _ = h(context.Background(), named)
			spans := r.spans.Ended()
			if len(spans) != 2 {
				t.Fatalf("%d spans", len(spans))
			}
			wantAttrs(t, spans[0], tc.get)
			wantAttrs(t, spans[1], tc.publish)
		})
	}
}

// Without SpanScope every scope of a service shares one cache entry; with it each scope key
// and depth has its own, and no span carries another scope's attributes.
func TestScopesDoNotShareAttributes(t *testing.T) {
	r := newRig(t, opsotel.WithSpanAttrs(opsotel.SpanScope))
	h := r.mw(func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{}, nil })
	unscoped := ops.Op{Kind: ops.KVGet, Service: "shop", Key: "igniter:store:shop:kv:cart"}
	other := ops.Op{Kind: ops.KVGet, Service: "shop", ScopeKey: "region", ScopeDepth: 1, Key: "igniter:store:shop:region:eu:kv:cart"}
	for _, op := range []ops.Op{scopedGet, unscoped, other, scopedGet} {
		_, _ = h(context.Background(), op)
	}
	var got []string
	for _, s := range r.spans.Ended() {
		a := attrMap(s.Attributes())
		got = append(got, a["igniter.store.scope_key"]+"/"+a["igniter.store.scope_depth"])
	}
	if want := []string{"tenant/1", "/", "region/1", "tenant/1"}; !slices.Equal(got, want) {
		t.Fatalf("scopes %v, want %v", got, want)
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
