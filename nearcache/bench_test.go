package nearcache_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/nearcache"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/storetest"
	"github.com/igniter-go/store/telemetry"
	"github.com/igniter-go/store/telemetry/opsprom"
)

// The hit path of the near cache against the alternatives, on one real redis-server:
//   - NearGet: nearcache.Get of a cached 2-field JSON object, decoded into a struct;
//   - NearGetRaw: the same without decoding;
//   - GoRedisCSCGet: go-redis's own client-side cache (ClientSideCacheConfig, its built-in
//     *LocalCache with the copy-free hit path), rdb.Get(...).Bytes(): what the near cache's
//     counting wrapper and key building cost on top;
//   - NearGetRawUnobserved / NearGetRawObserved: NearGetRaw on a store and near cache built for
//     the sub-benchmark and closed after it, without observers / with opsprom metrics and a slog
//     telemetry sink at Info (each hit signals the observers: opsprom counts it, the sink skips
//     the Debug event). Built alike, so their ratio is the observers' cost per hit, and
//     NearGet/NearGetRaw run beside the same clients as before the signals existed;
//   - StoreKVGet: the store's KV.Get of the same key — a network round trip per read.
func BenchmarkHitPath(b *testing.B) {
	srv := redistest.Start(b)
	ctx := context.Background()
	st := storetest.Connect(b, srv.Client(b), client.New().WithService("api"))
	tenant := st.MustScope("organization", "org_1")
	if err := tenant.KV.Set(ctx, "price:sku_1", Price{"sku_1", 1999}, 0); err != nil {
		b.Fatal(err)
	}
	nc, err := nearcache.New(tenant, nearcache.Options{Redis: &redis.Options{Addr: srv.Addr}})
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	csc := redis.NewClient(&redis.Options{Addr: srv.Addr, Protocol: 3, MaxRetries: -1, ClientSideCacheConfig: &redis.ClientSideCacheConfig{}})
	defer csc.Close()

	b.Run("NearGet", func(b *testing.B) {
		var p Price
		_, _ = nc.Get(ctx, "price:sku_1", &p)
		b.ReportAllocs()
		defer redistest.CPUPerOp(b)()
		for b.Loop() {
			if _, err := nc.Get(ctx, "price:sku_1", &p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("NearGetRaw", func(b *testing.B) { measureHits(b, nc) })
	b.Run("NearGetRawUnobserved", func(b *testing.B) { ownStoreHits(b, srv, client.New()) })
	b.Run("NearGetRawObserved", func(b *testing.B) {
		metrics := opsprom.New()
		prometheus.NewRegistry().MustRegister(metrics)
		logger := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
		ownStoreHits(b, srv, client.New().WithMetrics(metrics).WithTelemetry(telemetry.NewSlogSink(logger)))
	})
	b.Run("GoRedisCSCGet", func(b *testing.B) {
		_ = csc.Get(ctx, fullKey).Err()
		b.ReportAllocs()
		defer redistest.CPUPerOp(b)()
		for b.Loop() {
			if _, err := csc.Get(ctx, fullKey).Bytes(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("StoreKVGet", func(b *testing.B) {
		var p Price
		b.ReportAllocs()
		defer redistest.CPUPerOp(b)()
		for b.Loop() {
			if _, err := tenant.KV.Get(ctx, "price:sku_1", &p); err != nil {
				b.Fatal(err)
			}
		}
	})
	if s := nc.Stats(); s.Misses > 2 {
		b.Fatalf("the near cache missed %d times: the benchmark did not measure hits", s.Misses)
	}
}

// ownStoreHits measures NearGetRaw hits on a store built from bld and a near cache of its own,
// both closed when it returns.
func ownStoreHits(b *testing.B, srv *redistest.Server, bld *client.Builder) {
	st := storetest.Connect(b, srv.Client(b), bld.WithService("api"))
	defer st.Close() // closed with the sub-benchmark, not at the end of the whole benchmark
	nc, err := nearcache.New(st.MustScope("organization", "org_1"), nearcache.Options{Redis: &redis.Options{Addr: srv.Addr}})
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	measureHits(b, nc)
	b.StopTimer()
	if s := nc.Stats(); s.Misses > 2 {
		b.Fatalf("the near cache missed %d times: the benchmark did not measure hits", s.Misses)
	}
}

// measureHits warms nc with one read, then measures its GetRaw hits (allocations, CPU per op).
func measureHits(b *testing.B, nc *nearcache.Near) {
	ctx := context.Background()
	_, _, _ = nc.GetRaw(ctx, "price:sku_1")
	b.ReportAllocs()
	defer redistest.CPUPerOp(b)()
	for b.Loop() {
		if _, _, err := nc.GetRaw(ctx, "price:sku_1"); err != nil {
			b.Fatal(err)
		}
	}
}

// The signal one near-cache hit raises, alone (no Redis): on a store without observers, and on
// one with opsprom metrics and a slog sink at Info, as in NearGetRawObserved.
func BenchmarkHitSignal(b *testing.B) {
	metrics := opsprom.New()
	prometheus.NewRegistry().MustRegister(metrics)
	logger := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	for name, bld := range map[string]*client.Builder{
		"Unobserved": client.New(),
		"Observed":   client.New().WithMetrics(metrics).WithTelemetry(telemetry.NewSlogSink(logger)),
	} {
		b.Run(name, func(b *testing.B) {
			st, err := storetest.Open(storetest.WithBuilder(func(*client.Builder) *client.Builder { return bld.WithService("api") }))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			tenant := st.MustScope("organization", "org_1")
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				tenant.Signal(ctx, ops.Signal{Kind: ops.SignalNearHit})
			}
		})
	}
}
