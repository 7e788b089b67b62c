package ratelimit_test

import (
	"context"
	"testing"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ratelimit"
	"github.com/igniter-go/store/storetest"
)

// The cost of one limiter check (EVALSHA of the GCRA script) beside a Counter.Increment (the
// original recipe's INCR, before its EXPIRE), on one real redis-server.
func BenchmarkAllow(b *testing.B) {
	srv := redistest.Start(b)
	ctx := context.Background()
	st := storetest.Connect(b, srv.Client(b), client.New().WithService("api"))
	lim := ratelimit.New(st, ratelimit.Options{})
	limit := ratelimit.PerSecond(1_000_000) // never limits: every call runs the full script and writes
	b.Run("Allow", func(b *testing.B) {
		b.ReportAllocs()
		defer redistest.CPUPerOp(b)()
		for b.Loop() {
			if _, err := lim.Allow(ctx, "k", limit); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Increment", func(b *testing.B) {
		b.ReportAllocs()
		defer redistest.CPUPerOp(b)()
		for b.Loop() {
			if _, err := st.Counter.Increment(ctx, "k2"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
