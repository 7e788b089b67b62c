package dashboards_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/nearcache"
	"github.com/igniter-go/store/telemetry/opsprom"
)

// nearCacheService is the service of the near-cache reader the end-to-end test runs beside the
// load test (whose blend has no near cache), so the near-cache panels are checked on real
// scraped data too.
const nearCacheService = "nearcache-e2e"

// serveNearCache starts, on a redis-server of its own, a store with a near cache that reads one
// key every 20ms and rewrites it every 10th read (a miss, then hits, then an invalidation), and
// serves the store's metrics at the returned address until the test ends.
func serveNearCache(t *testing.T) string {
	t.Helper()
	srv := redistest.Start(t)
	metrics := opsprom.New()
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics)
	st, err := client.New().WithService(nearCacheService).WithAdapter(client.Redis(srv.Client(t))).WithMetrics(metrics).Build()
	if err != nil {
		t.Fatal(err)
	}
	near, err := nearcache.New(st, nearcache.Options{Redis: &redis.Options{Addr: srv.Addr}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := hs.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("near-cache metrics server: %v", err)
		}
	})
	wg.Go(func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if i%10 == 0 {
				_ = st.KV.Set(ctx, "price", i, 0)
			}
			var v int
			_, _ = near.Get(ctx, "price", &v)
		}
	})
	t.Cleanup(func() {
		cancel()
		_ = hs.Close()
		wg.Wait()
		_ = near.Close()
		_ = st.Close()
	})
	return l.Addr().String()
}
