package cache_test

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/igniter-go/store/cache"
	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/storetest"
)

// A LeaseTTL is either refused up front (STORE_CONFIGURATION_INVALID from New, as the Options
// doc promises for every option outside its limits) or it works: GetOrLoad loads and returns the
// value. Before the fix a LeaseTTL of a few milliseconds was accepted, and then every GetOrLoad
// failed with STORE_LEASE_LOST without calling the loader: Lease.Hold refuses a lease with less
// than TTL/3 left after its drift margin (TTL/100 + 2ms), which a lease this short never has.
func TestGuaranteeCacheShortLeaseTTLIsRefusedOrWorks(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	st := storetest.Connect(t, srv.Client(t), client.New().WithService("api"))
	for _, ttl := range []time.Duration{time.Nanosecond, time.Millisecond, 3 * time.Millisecond, cache.MinLeaseTTL - 1, cache.MinLeaseTTL, 50 * time.Millisecond} {
		if ttl < cache.MinLeaseTTL {
			if c, err := cache.New(st.MustScope("organization", "org_1"), cache.Options{LeaseTTL: ttl}); !ops.HasCode(err, ops.CodeConfigurationInvalid) || c != nil {
				t.Errorf("LeaseTTL %v: New returned %v, %v; want STORE_CONFIGURATION_INVALID and no Cache", ttl, c, err)
			}
			continue
		}
		c := instances(t, srv, 1, cache.Options{LeaseTTL: ttl})[0]
		var loads atomic.Int64
		v, err := cache.GetOrLoad(ctx, c, "short:"+ttl.String(), time.Minute, func(context.Context) (Price, error) {
			loads.Add(1)
			return Price{"sku_1", 7}, nil
		})
		switch {
		case err != nil || v.Cents != 7 || loads.Load() != 1:
			t.Errorf("LeaseTTL %v: %+v, %v (loads %d), want the loaded value", ttl, v, err, loads.Load())
		}
	}
}

// A loader that ends its goroutine with runtime.Goexit (t.FailNow or t.Fatal called from a
// loader, by mistake) is not a panic, and no recover sees it. It must not wedge the key: the
// waiting caller gets STORE_CALLBACK_PANIC instead of waiting forever, the claim is released (not
// renewed forever by a Hold that never saw fn return), and the next call loads.
func TestGuaranteeCacheLoaderGoexitDoesNotWedgeTheKey(t *testing.T) {
	srv := redistest.Start(t)
	c := instances(t, srv, 1, cache.Options{LeaseTTL: time.Second})[0]
	// The bound only ends a test that would otherwise hang; the assertion is on the error.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := cache.GetOrLoad(ctx, c, "goexit", time.Minute, func(context.Context) (Price, error) {
		runtime.Goexit()
		return Price{}, nil
	})
	var pv *ops.PanicValue
	if !ops.HasCode(err, ops.CodeCallbackPanic) || !errors.As(err, &pv) {
		t.Fatalf("a loader that called runtime.Goexit: %v, want STORE_CALLBACK_PANIC", err)
	}
	plain := srv.Client(t)
	if n, err := plain.Exists(ctx, claimKey("goexit"), valueKey("goexit")).Result(); err != nil || n != 0 {
		t.Fatalf("after the Goexit: %d of the claim and value keys exist (%v), want none", n, err)
	}
	v, err := cache.GetOrLoad(ctx, c, "goexit", time.Minute, func(context.Context) (Price, error) { return Price{"sku_1", 3}, nil })
	if err != nil || v.Cents != 3 {
		t.Fatalf("the next call: %+v, %v; want the loaded value", v, err)
	}
}

// panicLog is a slog.Handler that panics on every record: a broken log sink.
type panicLog struct{ slog.Handler }

func (panicLog) Handle(context.Context, slog.Record) error { panic("log sink bug") }

// The cache's background refresh reports its failures to the store's logger when OnRefreshError
// is unset. A slog handler is user code too: if it panics, the process must live ("user code
// never kills the process from the cache's goroutines") and the next refresh must run.
func TestGuaranteeCachePanickingLoggerLeavesTheCacheWorking(t *testing.T) {
	srv := redistest.Start(t)
	st := storetest.Connect(t, srv.Client(t), client.New().WithService("api").WithLogger(slog.New(panicLog{slog.DiscardHandler})))
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	tenant := st.MustScope("organization", "org_1")
	opts := cache.Options{StaleFor: time.Hour, Now: clk.Now}
	c := newCache(t, tenant, opts)
	defer c.Close()
	ctx := context.Background()
	if _, err := cache.GetOrLoad(ctx, c, "k", time.Second, func(context.Context) (Price, error) { return Price{"sku_1", 1}, nil }); err != nil {
		t.Fatal(err)
	}
	clk.Add(2 * time.Second) // stale: the next read refreshes in the background
	refreshed := make(chan struct{})
	failing := func(context.Context) (Price, error) { return Price{}, errors.New("source down") }
	if v, err := cache.GetOrLoad(ctx, c, "k", time.Second, failing); err != nil || v.Cents != 1 {
		t.Fatalf("stale read: %+v, %v", v, err)
	}
	c.Close() // waits for the refresh, whose failure went to the panicking logger
	c = newCache(t, tenant, opts)
	defer c.Close()
	if _, err := cache.GetOrLoad(ctx, c, "k", time.Second, func(context.Context) (Price, error) {
		close(refreshed)
		return Price{"sku_1", 2}, nil
	}); err != nil {
		t.Fatal(err)
	}
	<-refreshed
}

func (panicLog) Enabled(context.Context, slog.Level) bool { return true }
