package cache_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/igniter-go/store/cache"
	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/storetest"
)

// instances builds n stores on srv, each with its own go-redis client (as n processes would),
// and a Cache on each.
func instances(t *testing.T, srv *redistest.Server, n int, opts cache.Options) []*cache.Cache {
	t.Helper()
	out := make([]*cache.Cache, n)
	for i := range out {
		st := storetest.Connect(t, srv.Client(t), client.New().WithService("api"))
		c := newCache(t, st.MustScope("organization", "org_1"), opts)
		t.Cleanup(c.Close)
		out[i] = c
	}
	return out
}

// newCache is cache.New for options a test expects to be valid.
func newCache(t testing.TB, store *client.Store, opts cache.Options) *cache.Cache {
	t.Helper()
	c, err := cache.New(store, opts)
	if err != nil {
		t.Fatalf("cache.New: %v", err)
	}
	return c
}

// 4 instances × 250 goroutines ask for one cold key at once: the loader runs exactly once, and
// every caller gets its value. The loader holds until every goroutine has called GetOrLoad and
// each of the other 3 instances is waiting on the loader's claim, so the load is contended both
// in the process and across instances while it runs.
func TestStampedeLoadsOnceAcrossInstances(t *testing.T) {
	srv := redistest.Start(t)
	const n, per = 4, 250
	caches := instances(t, srv, n, cache.Options{})
	var (
		loads   atomic.Int64
		entered atomic.Int64
		wg      sync.WaitGroup
		start   = make(chan struct{})
		results = make([]Price, n*per)
		errs    = make([]error, n*per)
	)
	contended := func() bool {
		if entered.Load() < n*per {
			return false
		}
		waiting := 0
		for _, c := range caches {
			if c.Stats().Waits > 0 {
				waiting++
			}
		}
		return waiting == n-1
	}
	load := func(ctx context.Context) (Price, error) {
		loads.Add(1)
		tick := time.NewTicker(time.Millisecond) // the counters have no channel to wait on
		defer tick.Stop()
		deadline := time.After(20 * time.Second)
		for !contended() {
			select {
			case <-tick.C:
			case <-deadline:
				t.Error("the other instances did not all wait on the claim within 20s")
				return Price{}, errors.New("not contended")
			}
		}
		return Price{SKU: "sku_1", Cents: 1999}, nil
	}
	for i := range n * per {
		c := caches[i%n]
		wg.Go(func() {
			<-start
			entered.Add(1)
			results[i], errs[i] = cache.GetOrLoad(context.Background(), c, "price:sku_1", time.Minute, load)
		})
	}
	close(start)
	wg.Wait()
	if got := loads.Load(); got != 1 {
		t.Fatalf("the loader ran %d times, want exactly 1", got)
	}
	for i := range results {
		if errs[i] != nil || results[i] != (Price{SKU: "sku_1", Cents: 1999}) {
			t.Fatalf("caller %d: %+v, %v", i, results[i], errs[i])
		}
	}
	var misses, waits int64
	for _, c := range caches {
		misses += c.Stats().Misses
		waits += c.Stats().Waits
	}
	t.Logf("misses %d (callers that waited for the load), cross-instance waits %d", misses, waits)
	// Every other instance waited on the claim (contended() held before the load returned). A
	// singleflight round that starts just as the value lands may wait once more, so the count
	// is a floor, not an exact number; the loader running once is the guarantee.
	if waits < n-1 {
		t.Fatalf("%d waits on the claim, want at least %d (one per other instance)", waits, n-1)
	}
	pttl := srv.Client(t).PTTL(context.Background(), "igniter:store:api:organization:org_1:kv:cache:price:sku_1").Val()
	if pttl <= 0 || pttl > time.Minute {
		t.Fatalf("cached key PTTL %v", pttl)
	}
	if n := srv.Client(t).Exists(context.Background(), "igniter:store:api:organization:org_1:claim:cache:price:sku_1").Val(); n != 0 {
		t.Fatal("the load claim was left behind")
	}
}

// With early refresh on, a hot key (4 instances × 8 readers, a read every 2ms each) with a 1s TTL
// and a 50ms loader is refreshed before it expires, again and again for 3.5s, and after the
// first load no reader ever misses (waits for a load).
func TestEarlyRefreshKeepsAHotKeyWarm(t *testing.T) {
	srv := redistest.Start(t)
	caches := instances(t, srv, 4, cache.Options{Beta: 1})
	var loads atomic.Int64
	load := func(ctx context.Context) (int64, error) {
		time.Sleep(50 * time.Millisecond) // the database's work
		return loads.Add(1), nil
	}
	ctx := context.Background()
	if _, err := cache.GetOrLoad(ctx, caches[0], "hot", time.Second, load); err != nil {
		t.Fatal(err)
	}
	before := caches[0].Stats().Misses
	var (
		wg       sync.WaitGroup
		reads    atomic.Int64
		failures atomic.Int64
		newest   atomic.Int64
	)
	stop := time.Now().Add(3500 * time.Millisecond)
	for _, c := range caches {
		for range 8 {
			wg.Go(func() {
				tick := time.NewTicker(2 * time.Millisecond)
				defer tick.Stop()
				for time.Now().Before(stop) {
					<-tick.C
					v, err := cache.GetOrLoad(ctx, c, "hot", time.Second, load)
					if err != nil {
						failures.Add(1)
						continue
					}
					reads.Add(1)
					for cur := newest.Load(); v > cur && !newest.CompareAndSwap(cur, v); cur = newest.Load() {
					}
				}
			})
		}
	}
	wg.Wait()
	var misses, early int64
	for i, c := range caches {
		s := c.Stats()
		misses += s.Misses
		early += s.EarlyRefreshes
		if i == 0 {
			misses -= before
		}
	}
	t.Logf("reads %d, loads %d, early refreshes started %d, misses %d", reads.Load(), loads.Load(), early, misses)
	if failures.Load() > 0 {
		t.Fatalf("%d reads failed", failures.Load())
	}
	if misses != 0 {
		t.Fatalf("%d reads missed and waited for a load: the key expired before its refresh", misses)
	}
	if loads.Load() < 3 || newest.Load() < 3 {
		t.Fatalf("%d loads (newest value seen %d) in 3.5s of a 1s TTL: the key was not refreshed", loads.Load(), newest.Load())
	}
}
