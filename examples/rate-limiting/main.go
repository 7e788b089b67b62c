// Command rate-limiting is the original's per-tenant API rate limit, done with GCRA in one
// atomic script per call (package ratelimit): no key ever lacks an expiry, and no window edge
// lets twice the limit through. Each tenant has its own budget; a denied request is told when
// to retry, and Wait sleeps exactly that long.
//
//	go run ./examples/rate-limiting              # embedded Redis (miniredis)
//	go run ./examples/rate-limiting -redis ADDR  # a real server
package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/examples/internal/harness"
	"github.com/igniter-go/store/ratelimit"
)

func main() { harness.Main(run) }

func run(ctx context.Context, env *harness.Env, out io.Writer) error {
	store, err := env.Store(client.New().WithService("ratelimit-example").AddScope("tenant"))
	if err != nil {
		return err
	}
	rdb := env.Redis()

	// 5 invoice creations a minute per tenant, bursts of 5.
	limit := ratelimit.PerMinute(5)
	for _, tenant := range []string{"acme", "globex"} {
		lim, err := ratelimit.New(store.MustScope("tenant", tenant), ratelimit.Options{})
		if err != nil {
			return err
		}
		key := "POST /invoices"
		// Start from a full budget on a reused server.
		_ = rdb.Del(ctx, store.MustScope("tenant", tenant).Prefix()+":counter:ratelimit:"+key).Err()
		n := 7
		if tenant == "globex" {
			n = 2
		}
		for i := 1; i <= n; i++ {
			r, err := lim.Allow(ctx, key, limit)
			if err != nil {
				return err
			}
			if r.OK() {
				fmt.Fprintf(out, "%s request %d: allowed, %d left\n", tenant, i, r.Remaining)
			} else {
				fmt.Fprintf(out, "%s request %d: 429 Too Many Requests, Retry-After: %.0f\n", tenant, i, math.Ceil(r.RetryAfter.Seconds()))
			}
		}
	}

	// A burst-free limit of 20 a second: Wait spaces calls 50ms apart.
	lim, err := ratelimit.New(store.MustScope("tenant", "acme"), ratelimit.Options{})
	if err != nil {
		return err
	}
	fast := ratelimit.Limit{Rate: 20, Period: time.Second, Burst: 1}
	_ = rdb.Del(ctx, store.MustScope("tenant", "acme").Prefix()+":counter:ratelimit:webhook").Err()
	start := time.Now()
	for range 5 {
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := lim.Wait(wctx, "webhook", fast)
		cancel()
		if err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "5 webhook calls at 20/s took at least 200ms: %v\n", time.Since(start) >= 200*time.Millisecond)
	return nil
}
