package cache_test

import (
	"context"
	"strconv"
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
	c := newCache(b, tenant, cache.Options{Beta: 1})
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

// The cost of a miss in one process with no contention: the claim, a loader that returns at
// once, the write of the entry and the claim's release. "new" keys were never loaded (Redis is
// flushed); "known" keys were loaded before and their value deleted (the claim's fencing
// counter, kept forever, already exists).
func BenchmarkMiss(b *testing.B) {
	srv := redistest.Start(b)
	ctx := context.Background()
	rdb := srv.Client(b)
	st := storetest.Connect(b, rdb, client.New().WithService("api"))
	c := newCache(b, st.MustScope("organization", "org_1"), cache.Options{})
	defer c.Close()
	load := func(context.Context) (Price, error) { return Price{"sku_1", 1999}, nil }
	keys, redisKeys := make([]string, 1024), make([]string, 1024)
	for i := range keys {
		keys[i] = "price:" + strconv.Itoa(i)
		redisKeys[i] = "igniter:store:api:organization:org_1:kv:cache:" + keys[i]
	}
	for name, forget := range map[string]func() error{
		"new":   func() error { return rdb.FlushAll(ctx).Err() },
		"known": func() error { return rdb.Del(ctx, redisKeys...).Err() },
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			defer redistest.CPUPerOp(b)()
			i := 0
			for b.Loop() {
				if i%len(keys) == 0 {
					b.StopTimer()
					if err := forget(); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				if _, err := cache.GetOrLoad(ctx, c, keys[i%len(keys)], time.Hour, load); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
