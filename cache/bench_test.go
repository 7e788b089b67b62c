package cache_test

import (
	"context"
	"testing"
	"time"

	"github.com/igniter-go/store/cache"
	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/storetest"
)

// The cost of a cache hit (one GET and the envelope's decoding) beside a plain KV.Get of the
// same value, on one real redis-server.
func BenchmarkHit(b *testing.B) {
	srv := redistest.Start(b)
	ctx := context.Background()
	st := storetest.Connect(b, srv.Client(b), client.New().WithService("api"))
	tenant := st.MustScope("organization", "org_1")
	c := cache.New(tenant, cache.Options{Beta: 1})
	defer c.Close()
	load := func(context.Context) (Price, error) { return Price{"sku_1", 1999}, nil }
	if _, err := cache.GetOrLoad(ctx, c, "price:sku_1", time.Hour, load); err != nil {
		b.Fatal(err)
	}
	_ = tenant.KV.Set(ctx, "plain:sku_1", Price{"sku_1", 1999}, time.Hour)
	b.Run("GetOrLoad", func(b *testing.B) {
		b.ReportAllocs()
		defer redistest.CPUPerOp(b)()
		for b.Loop() {
			if _, err := cache.GetOrLoad(ctx, c, "price:sku_1", time.Hour, load); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("KVGet", func(b *testing.B) {
		var p Price
		b.ReportAllocs()
		defer redistest.CPUPerOp(b)()
		for b.Loop() {
			if _, err := tenant.KV.Get(ctx, "plain:sku_1", &p); err != nil {
				b.Fatal(err)
			}
		}
	})
	if s := c.Stats(); s.Misses != 1 {
		b.Fatalf("%d misses: the benchmark did not measure hits", s.Misses)
	}
}
