package client_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/telemetry"
	"github.com/igniter-go/store/telemetry/opsprom"
)

// Allocations and cost of one GET on a real redis-server: plain go-redis against the store with
// the default chain + Prometheus metrics + slog events at info, pipelined and not. Sequential
// runs take the pipeline's direct path (nothing else in flight); Parallel runs 64 callers.
//
//	go test ./client -run '^$' -bench 'RedisGet' -benchmem -count 3
func BenchmarkRedisGet(b *testing.B) {
	srv := redistest.Start(b)
	ctx := context.Background()
	if err := srv.Client(b).Set(ctx, "igniter:store:api:kv:k", `"v"`, 0).Err(); err != nil {
		b.Fatal(err)
	}
	rdb := srv.Client(b)
	observed := func(opts ...client.RedisOption) *client.Store {
		logger := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
		st, err := client.New().WithService("api").WithAdapter(client.Redis(srv.Client(b), opts...)).
			WithMetrics(opsprom.New()).WithTelemetry(telemetry.NewSlogSink(logger)).Build()
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = st.Close() })
		return st
	}
	piped, plain := observed(), observed(client.WithoutPipelining())
	cases := []struct {
		name string
		get  func() error
	}{
		{"go-redis", func() error { return rdb.Get(ctx, "igniter:store:api:kv:k").Err() }},
		{"store-observed", func() error { _, _, err := piped.KV.GetRaw(ctx, "k"); return err }},
		{"store-observed-nopipe", func() error { _, _, err := plain.KV.GetRaw(ctx, "k"); return err }},
	}
	for _, c := range cases {
		b.Run(c.name+"/sequential", func(b *testing.B) {
			b.ReportAllocs()
			defer redistest.CPUPerOp(b)()
			for b.Loop() {
				if err := c.get(); err != nil && err != redis.Nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/parallel-64", func(b *testing.B) {
			b.ReportAllocs()
			defer redistest.CPUPerOp(b)()
			b.SetParallelism(32) // × GOMAXPROCS=2
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := c.get(); err != nil && err != redis.Nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// What the store costs next to its engines at the concurrency services run at: GET and SET of a
// 100-byte value by 16 and 64 callers (b.SetParallelism × GOMAXPROCS: run with -cpu 2), on one
// redis-server and on a 3-primary cluster. The store has the default chain + Prometheus metrics +
// slog events at info, as bench/compare's store-obs; go-redis is a plain client (its pool), and
// its AutoPipeline() the blocking face of the engine the store pipelines on. On a machine others
// share, compare the ratios of one run, interleaved runs of two builds, and cpu-ns/op.
//
//	go test ./client -run '^$' -bench 'RedisCallers' -benchmem -cpu 2 -count 3
func BenchmarkRedisCallers(b *testing.B) {
	srv := redistest.Start(b)
	rdb := srv.Client(b)
	ap, err := srv.Client(b).AutoPipeline()
	if err != nil {
		b.Fatal(err)
	}
	benchCallers(b, map[string]redis.Cmdable{"go-redis": rdb, "go-redis-autopipeline": ap},
		observedStore(b, srv.Client(b)))
}

// BenchmarkRedisClusterCallers is BenchmarkRedisCallers on a local 3-primary cluster, against
// go-redis's ClusterClient.
//
//	go test ./client -run '^$' -bench 'RedisClusterCallers' -benchmem -cpu 2 -count 3
func BenchmarkRedisClusterCallers(b *testing.B) {
	c := redistest.StartCluster(b, 3)
	benchCallers(b, map[string]redis.Cmdable{"go-redis-cluster": c.Client(b)}, observedStore(b, c.Client(b)))
}

// observedStore is the store bench/compare calls store-obs on rdb: metrics and events at info.
func observedStore(b *testing.B, rdb redis.UniversalClient) *client.Store {
	logger := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	st, err := client.New().WithService("api").WithAdapter(client.Redis(rdb)).
		WithMetrics(opsprom.New()).WithTelemetry(telemetry.NewSlogSink(logger)).Build()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	return st
}

// benchCallers runs GET and SET on each go-redis client of raw and on st, at 16 and 64 callers,
// over 1,000 keys that the store and the raw clients share (the store's keys, its JSON values).
func benchCallers(b *testing.B, raw map[string]redis.Cmdable, st *client.Store) {
	ctx := context.Background()
	const nkeys = 1000
	value := strings.Repeat("v", 100)
	keys, storeKeys := make([]string, nkeys), make([]string, nkeys)
	for i := range keys {
		keys[i] = "k" + strconv.Itoa(i)
		storeKeys[i] = "igniter:store:api:kv:" + keys[i]
	}
	for _, rdb := range raw {
		for _, k := range storeKeys {
			if err := rdb.Set(ctx, k, `"`+value+`"`, 0).Err(); err != nil {
				b.Fatal(err)
			}
		}
		break
	}
	type op struct{ get, set func(i int) error }
	clients := map[string]op{"store-observed": {
		get: func(i int) error { _, _, err := st.KV.GetRaw(ctx, keys[i]); return err },
		set: func(i int) error { return st.KV.Set(ctx, keys[i], value, 0) },
	}}
	for name, rdb := range raw {
		clients[name] = op{
			get: func(i int) error { return rdb.Get(ctx, storeKeys[i]).Err() },
			set: func(i int) error { return rdb.Set(ctx, storeKeys[i], value, 0).Err() },
		}
	}
	names := slices.Sorted(maps.Keys(clients))
	for _, load := range []string{"get", "set"} {
		for _, callers := range []int{16, 64} {
			for _, name := range names {
				run := clients[name].get
				if load == "set" {
					run = clients[name].set
				}
				b.Run(fmt.Sprintf("%s/%s/callers-%d", load, name, callers), func(b *testing.B) {
					b.ReportAllocs()
					defer redistest.CPUPerOp(b)()
					b.SetParallelism(max(1, callers/runtime.GOMAXPROCS(0)))
					var seq atomic.Uint32
					b.RunParallel(func(pb *testing.PB) {
						i := int(seq.Add(7919)) // a different walk of the keys per caller
						for pb.Next() {
							i = (i + 1) % nkeys
							if err := run(i); err != nil && err != redis.Nil {
								b.Error(err)
								return
							}
						}
					})
				})
			}
		}
	}
}
