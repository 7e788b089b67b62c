package client_test

import (
	"context"
	"encoding/json"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/events"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
)

// BenchmarkEventsRoundTrip measures publish → receive round trips on a real redis-server: each
// publisher publishes, waits until the subscription's handler received its message, and
// publishes again. publishers=64 runs 64 such loops at once on one subscription.
func BenchmarkEventsRoundTrip(b *testing.B) {
	for _, publishers := range []int{1, 64} {
		b.Run("publishers="+strconv.Itoa(publishers), func(b *testing.B) {
			srv := redistest.Start(b)
			rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, ContextTimeoutEnabled: true, PoolSize: 2 * publishers})
			st, err := client.New().WithService("bench").WithAdapter(client.Redis(rdb, client.OwnClient())).Build()
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			ctx := context.Background()
			back := make([]chan struct{}, publishers)
			for i := range back {
				back[i] = make(chan struct{}, 1)
			}
			sub, err := st.Events.Subscribe(ctx, "bench:rt", func(_ context.Context, m events.Message) error {
				i, _ := strconv.Atoi(string(m.Data))
				back[i] <- struct{}{}
				return nil
			}, events.WithBuffer(4*publishers))
			if err != nil {
				b.Fatal(err)
			}
			defer sub.Close()

			var next atomic.Int64
			var ids atomic.Int32
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			done := make(chan struct{})
			for range publishers {
				go func() {
					defer func() { done <- struct{}{} }()
					id := int(ids.Add(1) - 1)
					for next.Add(1) <= int64(b.N) {
						if err := st.Events.Publish(ctx, "bench:rt", id); err != nil {
							b.Error(err)
							return
						}
						select {
						case <-back[id]:
						case <-time.After(10 * time.Second):
							b.Error("message lost")
							return
						}
					}
				}()
			}
			for range publishers {
				<-done
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "roundtrips/s")
			if d := sub.Dropped(); d != 0 {
				b.Fatalf("%d messages dropped", d)
			}
		})
	}
}

// BenchmarkEventsPublish measures one publish: through the chain to a real redis-server, and
// through the chain to an executor that does nothing (the store's own cost and allocations).
func BenchmarkEventsPublish(b *testing.B) {
	payload := json.RawMessage(`{"id":"u1","amount":42}`)
	b.Run("redis", func(b *testing.B) {
		srv := redistest.Start(b)
		st, err := client.New().WithService("bench").WithAdapter(client.Redis(srv.Client(b))).Build()
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if err := st.Events.Publish(ctx, "user:created", payload); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("executor", func(b *testing.B) {
		exec := client.HandlerAdapter(func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{}, nil })
		st, err := client.New().WithService("bench").WithAdapter(exec).Build()
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		scoped := st.MustScope("org", "o1")
		b.ReportAllocs()
		for b.Loop() {
			if err := scoped.Events.Publish(ctx, "user:created", payload); err != nil {
				b.Fatal(err)
			}
		}
	})
}
