package main

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/loadtest/internal/drive"
	"github.com/igniter-go/store/loadtest/internal/hist"
	"github.com/igniter-go/store/loadtest/internal/report"
	"github.com/igniter-go/store/telemetry/opsprom"
)

// nearEnv is an env with one tenant store on addr, with metrics on m, and a kv part set up.
func nearEnv(t *testing.T, rdbAddr string, m *opsprom.Metrics) (*env, *kvPart) {
	t.Helper()
	st, err := client.New().WithService("loadtest").AddScope("tenant").
		WithAdapter(client.Redis(redis.NewClient(&redis.Options{Addr: rdbAddr, MaxRetries: -1, ContextTimeoutEnabled: true}), client.OwnClient())).WithMetrics(m).Build()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	e := &env{cfg: config{keys: 50, valueSize: 128, concurrency: 4}, st: &stores{root: st, tenants: []*client.Store{st.MustScope("tenant", "t0")}}, set: hist.NewSet(1)}
	kv := &kvPart{}
	if err := kv.setup(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	return e, kv
}

// counter returns the value of the counter name (summed over its series) in m.
func counter(t *testing.T, m *opsprom.Metrics, name string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, s := range mf.GetMetric() {
				sum += s.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// On a real redis-server the near-cache part reads through a tracking near cache: the store's
// metrics count near-cache hits and misses (the dashboards' near-cache panels), and a KV.Set of
// a cached key through the kv part is applied as an invalidation.
func TestNearPartFeedsTheNearCacheMetrics(t *testing.T) {
	srv := redistest.Start(t)
	m := opsprom.New()
	e, kv := nearEnv(t, srv.Addr, m)
	tgt := newTarget(report.TargetStarted, "test", []string{srv.Addr}, nil, func() {})
	p := &nearPart{kv: kv, addr: tgt.nearCacheAddr()}
	if p.addr != srv.Addr {
		t.Fatalf("nearCacheAddr on a started redis-server: %q, want %q", p.addr, srv.Addr)
	}
	ctx := context.Background()
	if err := p.setup(ctx, e); err != nil {
		t.Fatal(err)
	}
	defer p.stop()
	w := &drive.Worker{Rand: rand.New(rand.NewPCG(1, 2))}
	st := e.st.tenants[0]
	for range 200 {
		if op, err := p.get(ctx, e, w, st); op != opNearGet || err != nil {
			t.Fatalf("get: %s, %v", op, err)
		}
	}
	hits, misses := counter(t, m, opsprom.MetricNearCacheHits), counter(t, m, opsprom.MetricNearCacheMisses)
	if hits == 0 || misses == 0 || hits+misses != 200 {
		t.Fatalf("near-cache metrics after 200 reads: %v hits, %v misses", hits, misses)
	}
	// Write every key once: the ones the near cache holds are invalidated by Redis.
	for _, k := range kv.keys {
		if err := st.KV.Set(ctx, k, kv.value, 0); err != nil {
			t.Fatal(err)
		}
	}
	// An invalidation is counted when Redis's message is applied, after the write returned (on
	// the next command of the connection, or its idle sweep): read until one is counted. The
	// deadline only ends a test that would otherwise hang.
	deadline := time.Now().Add(30 * time.Second)
	for counter(t, m, opsprom.MetricNearCacheInvalidations) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no near-cache invalidation counted after rewriting every key")
		}
		if _, err := p.get(ctx, e, w, st); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	// The run stops its parts before it asks for their notes: the counts outlive the near caches.
	p.stop()
	if notes := p.notes(e, 0); len(notes) != 1 || !strings.Contains(notes[0], "reads from memory") {
		t.Errorf("notes after stop: %q", notes)
	}
}

// On the embedded miniredis (no CLIENT TRACKING) the part runs with the near cache off: its reads
// go through KV and succeed, and its note says the near cache was off.
func TestNearPartIsOffOnMiniredis(t *testing.T) {
	mr := miniredis.RunT(t)
	tgt := newTarget(report.TargetMiniredis, "test", []string{mr.Addr()}, nil, func() {})
	if a := tgt.nearCacheAddr(); a != "" {
		t.Fatalf("nearCacheAddr on miniredis: %q, want none", a)
	}
	e, kv := nearEnv(t, mr.Addr(), opsprom.New())
	p := &nearPart{kv: kv}
	ctx := context.Background()
	if err := p.setup(ctx, e); err != nil {
		t.Fatal(err)
	}
	defer p.stop()
	w := &drive.Worker{Rand: rand.New(rand.NewPCG(1, 2))}
	for range 20 {
		if _, err := p.get(ctx, e, w, e.st.tenants[0]); err != nil {
			t.Fatal(err)
		}
	}
	if notes := p.notes(e, 0); len(notes) != 1 || !strings.Contains(notes[0], "off on this target") {
		t.Errorf("notes: %q", notes)
	}
}
