package client_test

import (
	"context"
	"io"
	"log/slog"
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
