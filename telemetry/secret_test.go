package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/events"
	"github.com/igniter-go/store/middleware/schema"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/storetest"
	"github.com/igniter-go/store/streams"
	"github.com/igniter-go/store/telemetry"
	"github.com/igniter-go/store/telemetry/opsotel"
	"github.com/igniter-go/store/telemetry/opsprom"
)

const secret = "s3cr3t-T0KEN-4f9a"

// TestSecretsNeverReachTelemetry plants one secret as key, value, payload and scope id through
// every store operation (successes and failures) with every telemetry output on, and proves it
// appears in no event, log line, span, span event or metric label or value. It also proves the
// secret did reach Redis and that every output saw the operations, so the test cannot pass by
// observing nothing.
func TestSecretsNeverReachTelemetry(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	rec := telemetry.NewRecorder()
	var logs bytes.Buffer
	logSink := telemetry.NewSlogSink(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) }()
	prom := opsprom.New()
	reg := prometheus.NewRegistry()
	reg.MustRegister(prom)

	// A registered event whose schema the secret payload violates: the validation failure's
	// error event must not quote the payload.
	ns := events.NewNamespace("vault")
	if _, err := ns.Event("stored", schema.MustJSON(`{"type":"object","properties":{"card":{"type":"integer"}}}`)); err != nil {
		t.Fatal(err)
	}
	st := storetest.New(t, storetest.WithBuilder(func(b *client.Builder) *client.Builder {
		return b.WithService("shop").AddScope("tenant").AddEvents(ns).
			// Every optional span attribute on, so that each is searched for the secret.
			WithTracing(opsotel.New(opsotel.WithTracerProvider(tp), opsotel.WithMeterProvider(mp), opsotel.WithServerAddress("127.0.0.1", 6379),
				opsotel.WithDBNamespace("0"), opsotel.WithSpanAttrs(opsotel.SpanStore))).
			WithMetrics(prom).
			WithTelemetry(telemetry.Multi(rec, logSink, opsotel.NewSpanEventSink(slog.LevelDebug)))
	}))
	s := st.MustScope("tenant", secret)
	payload := map[string]string{"card": secret}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	// kv
	must(s.KV.Set(ctx, secret, payload, time.Minute))
	var got map[string]string
	if found, err := s.KV.Get(ctx, secret, &got); !found || err != nil || got["card"] != secret {
		t.Fatalf("kv.get: %v %v %v", found, err, got)
	}
	_, _, _ = s.KV.GetRaw(ctx, secret)
	_, _ = s.KV.Exists(ctx, secret)
	must(s.KV.Expire(ctx, secret, time.Hour))
	must(s.KV.Touch(ctx, secret, time.Hour))
	_ = s.KV.Set(ctx, secret, make(chan int), 0) // STORE_SERIALIZATION_FAILED
	// counter, with a failure: the stored value is the secret, not an integer
	_, _ = s.Counter.Increment(ctx, secret)
	_, _ = s.Counter.Decrement(ctx, secret)
	_, _ = s.Counter.IncrementBy(ctx, secret, 5)
	must(s.Counter.Expire(ctx, secret, time.Hour))
	must(st.Redis.Set("igniter:store:shop:tenant:"+secret+":counter:bad", secret))
	if _, err := s.Counter.Increment(ctx, "bad"); err == nil {
		t.Fatal("incrementing a non-integer succeeded")
	}
	// claim and lease
	_, _ = s.Claim.Once(ctx, secret, secret, time.Minute)
	_, _ = s.Claim.Once(ctx, secret, secret, time.Minute) // already held
	_, _ = s.Claim.Release(ctx, secret, "not-"+secret)    // not the owner
	_, _ = s.Claim.Release(ctx, secret, secret)
	lease, err := s.Claim.Acquire(ctx, secret+"-lease", time.Minute, client.AcquireOptions{})
	must(err)
	if _, err := s.Claim.Acquire(ctx, secret+"-lease", time.Minute, client.AcquireOptions{}); err == nil {
		t.Fatal("a held lease was acquired twice")
	}
	must(lease.Extend(ctx, 2*time.Minute))
	must(lease.Release(ctx))
	// batch
	must(s.Batch.Set(ctx, client.BatchEntry{Key: secret + "-1", Value: payload}, client.BatchEntry{Key: secret + "-2", Value: secret, TTL: time.Minute}))
	_, _ = s.Batch.Get(ctx, secret+"-1", secret+"-2", secret+"-missing")
	// dev
	_, _ = s.Dev.Scan(ctx, secret+"*", client.ScanOptions{})
	// events: subscribe, publish the secret, wait for its delivery, unsubscribe
	delivered := make(chan string, 1)
	sub, err := s.Events.Subscribe(ctx, "card:*", func(_ context.Context, m events.Message) error {
		delivered <- string(m.Data)
		return errors.New("handler failure about " + secret)
	})
	must(err)
	must(s.Events.Publish(ctx, "card:added", payload))
	select {
	case d := <-delivered:
		if !strings.Contains(d, secret) {
			t.Fatalf("delivered %s", d)
		}
	case <-ctx.Done():
		t.Fatal("no delivery")
	}
	must(sub.Close())
	if err := s.Events.Publish(ctx, "vault:stored", payload); !ops.HasCode(err, ops.CodeSchemaValidationFailed) {
		t.Fatalf("invalid publish: %v", err)
	}
	// streams
	id, err := s.Streams.Append(ctx, "cards", payload, streams.AppendOptions{MaxLen: 100})
	must(err)
	_, _ = s.Streams.Range(ctx, "cards", streams.RangeOptions{})
	g := s.Streams.Group("billing", "worker-1")
	must(g.Ensure(ctx, "cards", streams.EnsureOptions{}))
	_, _ = g.Read(ctx, "cards", streams.ReadOptions{Count: 10})
	_, _ = g.Ack(ctx, "cards", id)
	_, _ = g.Lag(ctx, "cards")
	_, _ = s.Streams.Append(ctx, "cards", payload, streams.AppendOptions{})
	cctx, stop := context.WithCancel(ctx)
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		_ = g.Consume(cctx, "cards", func(_ context.Context, e streams.Entry) error {
			if strings.Contains(string(e.Message), secret) {
				stop()
			}
			return nil
		}, streams.ConsumeOptions{Block: 10 * time.Millisecond})
	}()
	<-consumed
	stop()

	if !strings.Contains(strings.Join(st.Redis.Keys(), " "), secret) {
		t.Fatal("the secret never reached Redis: the test planted nothing")
	}

	// events and log lines
	if len(rec.Events()) < 60 {
		t.Fatalf("only %d events: telemetry was not wired", len(rec.Events()))
	}
	sawSchema := false
	for _, e := range rec.Events() {
		if v, ok := e.Attr(telemetry.AttrErrorCode); ok && v.String() == string(ops.CodeSchemaValidationFailed) {
			sawSchema = true
		}
		if strings.Contains(e.Name, secret) {
			t.Errorf("event name %s", e.Name)
		}
		for _, a := range e.Attrs {
			if strings.Contains(a.String(), secret) {
				t.Errorf("%s carries %s", e.Name, a)
			}
		}
	}
	if !sawSchema {
		t.Error("no error event for the invalid publish")
	}
	if logs.Len() == 0 || strings.Contains(logs.String(), secret) {
		t.Errorf("log lines (%d bytes) hold the secret:\n%s", logs.Len(), grepLines(logs.String()))
	}
	// spans, their attributes, events, status and links
	ended := spans.Ended()
	seen := map[string]bool{}
	if len(ended) < 30 {
		t.Fatalf("only %d spans", len(ended))
	}
	for _, sp := range ended {
		stub := tracetest.SpanStubFromReadOnlySpan(sp)
		b, err := json.Marshal(struct {
			Name   string
			Attrs  any
			Events any
			Status any
			Links  any
		}{stub.Name, stub.Attributes, stub.Events, stub.Status, stub.Links})
		must(err)
		if strings.Contains(string(b), secret) {
			t.Errorf("span %s holds the secret: %s", sp.Name(), b)
		}
		for _, kv := range sp.Attributes() {
			seen[string(kv.Key)] = true
		}
	}
	// The attributes searched include every optional one and a failure's.
	for _, k := range []string{opsotel.AttrService, opsotel.AttrScopeKey, opsotel.AttrName, "db.namespace", "error.type", "db.response.status_code"} {
		if !seen[k] {
			t.Errorf("no span has %s", k)
		}
	}
	// Prometheus: every label value of every series
	mfs, err := reg.Gather()
	must(err)
	if len(mfs) < 5 {
		t.Fatalf("only %d metric families", len(mfs))
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if strings.Contains(lp.GetValue(), secret) || strings.Contains(lp.GetName(), secret) {
					t.Errorf("%s{%s=%q}", mf.GetName(), lp.GetName(), lp.GetValue())
				}
			}
		}
	}
	// OpenTelemetry metrics: every attribute of every data point
	var rm metricdata.ResourceMetrics
	must(reader.Collect(context.Background(), &rm))
	points := 0
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if h, ok := m.Data.(metricdata.Histogram[float64]); ok {
				for _, dp := range h.DataPoints {
					points++
					for _, kv := range dp.Attributes.ToSlice() {
						if strings.Contains(kv.Value.Emit(), secret) {
							t.Errorf("%s has %s=%s", m.Name, kv.Key, kv.Value.Emit())
						}
					}
				}
			}
		}
	}
	if points == 0 {
		t.Fatal("no OpenTelemetry data points")
	}
}

func grepLines(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, secret) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
