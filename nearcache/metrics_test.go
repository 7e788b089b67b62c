package nearcache_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/nearcache"
	"github.com/igniter-go/store/telemetry"
	"github.com/igniter-go/store/telemetry/opsprom"
)

// nearCounters reads the near-cache counters of service "api" from reg.
func nearCounters(t *testing.T, reg prometheus.Gatherer) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "igniter_store_nearcache_") {
			continue
		}
		for _, m := range mf.GetMetric() {
			if slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool {
				return l.GetName() == opsprom.LabelService && l.GetValue() == "api"
			}) {
				out[mf.GetName()] = m.GetCounter().GetValue()
			}
		}
	}
	return out
}

// The near cache's hits, misses, invalidations and connection losses reach the store's
// observers: opsprom's counters move (prepared at zero before the first read), and the
// telemetry catalog logs igniter.store.nearcache.* events without a key.
func TestSignalsReachTheStoresMetricsAndTelemetry(t *testing.T) {
	metrics := opsprom.New()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(metrics)
	rec := telemetry.NewRecorder()
	tenant, nc, events, plain := setupWith(t, client.New().WithMetrics(metrics).WithTelemetry(rec))
	ctx := context.Background()

	names := []string{opsprom.MetricNearCacheHits, opsprom.MetricNearCacheMisses, opsprom.MetricNearCacheInvalidations,
		opsprom.MetricNearCacheConnectionLosses, opsprom.MetricNearCacheEvicted}
	prev := nearCounters(t, reg)
	for _, n := range names {
		if v, ok := prev[n]; !ok || v != 0 {
			t.Fatalf("before the first read %s = %v (present %v), want a prepared 0", n, v, ok)
		}
	}
	// expect checks that each counter moved by exactly its delta since the last check.
	expect := func(step string, delta map[string]float64) {
		t.Helper()
		now := nearCounters(t, reg)
		for _, n := range names {
			if got := now[n] - prev[n]; got != delta[n] {
				t.Errorf("%s: %s moved by %v, want %v", step, n, got, delta[n])
			}
		}
		prev = now
	}

	if err := tenant.KV.Set(ctx, "price:sku_1", Price{"sku_1", 1}, 0); err != nil {
		t.Fatal(err)
	}
	read(t, nc)
	expect("first read", map[string]float64{opsprom.MetricNearCacheMisses: 1})
	read(t, nc)
	expect("second read", map[string]float64{opsprom.MetricNearCacheHits: 1})

	// The Node original's raw SET invalidates; the counter has moved when the hook runs.
	if err := plain.Do(ctx, "SET", fullKey, `{"sku":"sku_1","cents":2}`, "EX", "300").Err(); err != nil {
		t.Fatal(err)
	}
	await(t, events, nearcache.Invalidated)
	expect("raw SET", map[string]float64{opsprom.MetricNearCacheInvalidations: 1})
	if got := read(t, nc); got != 2 {
		t.Fatalf("after the raw SET: cents %d, want 2", got)
	}
	expect("read after the invalidation", map[string]float64{opsprom.MetricNearCacheMisses: 1})
	read(t, nc)
	expect("hit after the refetch", map[string]float64{opsprom.MetricNearCacheHits: 1})

	// CLIENT KILL of the tracking connection: a connection loss, with its entry evicted.
	if killed := killTracking(t, plain); killed == 0 {
		t.Fatal("no tracking connection to kill")
	}
	await(t, events, nearcache.ConnectionLost)
	expect("CLIENT KILL", map[string]float64{opsprom.MetricNearCacheConnectionLosses: 1, opsprom.MetricNearCacheEvicted: 1})

	seen := map[string]int{}
	for _, e := range rec.Events() {
		if !strings.HasPrefix(e.Name, "igniter.store.nearcache.") {
			continue
		}
		seen[e.Name]++
		for _, a := range e.Attrs {
			if s := a.Value.String(); strings.Contains(s, "price:sku_1") || strings.Contains(s, "org_1") {
				t.Errorf("%s carries a key or scope id: %s=%s", e.Name, a.Key, s)
			}
		}
		if v, _ := e.Attr(telemetry.AttrScopeKey); v.String() != "organization" {
			t.Errorf("%s: scope key %q, want organization", e.Name, v)
		}
	}
	for name, want := range map[string]int{"igniter.store.nearcache.hit": 2, "igniter.store.nearcache.miss": 2,
		"igniter.store.nearcache.invalidated": 1, "igniter.store.nearcache.connection_lost": 1} {
		if seen[name] != want {
			t.Errorf("%d %s events, want %d (all: %v)", seen[name], name, want, seen)
		}
	}
}
