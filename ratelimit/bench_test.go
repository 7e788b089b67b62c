package ratelimit_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ratelimit"
	"github.com/igniter-go/store/storetest"
)

// The cost of one limiter check (EVALSHA of the GCRA script) beside a Counter.Increment (the
// original recipe's INCR, before its EXPIRE), on one real redis-server. Besides the client's
// cpu-ns/op, server-ns/op is redis-server's own time per call of the command (INFO
// commandstats: the script, or the INCR).
func BenchmarkAllow(b *testing.B) {
	srv := redistest.Start(b)
	ctx := context.Background()
	raw := srv.Client(b)
	st := storetest.Connect(b, srv.Client(b), client.New().WithService("api"))
	lim := newLimiter(b, st, ratelimit.Options{})
	for _, bc := range []struct {
		name  string
		limit ratelimit.Limit
	}{
		{"Allow", ratelimit.PerSecond(1_000_000)}, // never limits: every call runs the full script and writes
		// An interval that is not whole microseconds (1⅔µs): the stored time carries nanoseconds.
		{"AllowFractional", ratelimit.Limit{Rate: 600_000, Period: time.Second, Burst: 600_000}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			defer serverPerOp(b, raw, "evalsha")()
			defer redistest.CPUPerOp(b)()
			for b.Loop() {
				if _, err := lim.Allow(ctx, "k:"+bc.name, bc.limit); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("Increment", func(b *testing.B) {
		b.ReportAllocs()
		defer serverPerOp(b, raw, "incr")()
		defer redistest.CPUPerOp(b)()
		for b.Loop() {
			if _, err := st.Counter.Increment(ctx, "k2"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// serverPerOp resets the server's command statistics and returns a func that reports the
// server's time per call of cmd as "server-ns/op".
func serverPerOp(b *testing.B, raw *redis.Client, cmd string) func() {
	ctx := context.Background()
	if err := raw.ConfigResetStat(ctx).Err(); err != nil {
		b.Fatal(err)
	}
	return func() {
		info, err := raw.Info(ctx, "commandstats").Result()
		if err != nil {
			b.Fatal(err)
		}
		for line := range strings.SplitSeq(info, "\n") {
			stats, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_"+cmd+":")
			if !ok {
				continue
			}
			var calls, usec float64
			for kv := range strings.SplitSeq(stats, ",") {
				k, v, _ := strings.Cut(kv, "=")
				switch k {
				case "calls":
					calls, _ = strconv.ParseFloat(v, 64)
				case "usec":
					usec, _ = strconv.ParseFloat(v, 64)
				}
			}
			if calls > 0 {
				b.ReportMetric(usec*1000/calls, "server-ns/op")
			}
			return
		}
		b.Fatalf("INFO commandstats has no %s", cmd)
	}
}
