package streams_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/streams"
)

// BenchmarkConsume measures a consume loop's throughput on a real redis-server: b.N entries are
// produced up front, then one loop with 1 or 8 handlers reads, handles (no work) and acks each.
// Reported as entries/s.
func BenchmarkConsume(b *testing.B) {
	for _, handlers := range []int{1, 8} {
		b.Run(fmt.Sprintf("handlers=%d", handlers), func(b *testing.B) {
			srv := redistest.Start(b)
			raw := srv.Client(b)
			ctx := context.Background()
			st, err := client.New().WithService("api").WithAdapter(client.Redis(srv.Client(b))).Build()
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			key := streamKey + "bench"
			pipe := raw.Pipeline()
			for i := range b.N {
				pipe.XAdd(ctx, &redis.XAddArgs{Stream: key, Values: []any{"data", fmt.Sprintf(`{"n":%d}`, i)}})
				if i%1000 == 999 {
					if _, err := pipe.Exec(ctx); err != nil {
						b.Fatal(err)
					}
				}
			}
			if _, err := pipe.Exec(ctx); err != nil {
				b.Fatal(err)
			}
			var handled atomic.Int64
			done := make(chan struct{})
			cctx, cancel := context.WithCancel(ctx)
			result := make(chan error, 1)
			b.ResetTimer()
			start := time.Now()
			go func() {
				result <- st.Streams.Group("g", "c").Consume(cctx, "bench", func(context.Context, streams.Entry) error {
					if handled.Add(1) == int64(b.N) {
						close(done)
					}
					return nil
				}, streams.ConsumeOptions{Concurrency: handlers, Batch: int64(8 * handlers), LagInterval: -1})
			}()
			<-done
			cancel()
			if err := <-result; err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "entries/s")
		})
	}
}
