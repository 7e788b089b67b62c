package cache_test

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/igniter-go/store/cache"
	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/storetest"
)

// The Redis keys of cache key k in the stores instances builds.
func valueKey(k string) string { return "igniter:store:api:organization:org_1:kv:cache:" + k }
func claimKey(k string) string { return "igniter:store:api:organization:org_1:claim:cache:" + k }

// eventually calls try until it reports true. The counters it is used on have no channel to wait
// on; the deadline only ends a test that would otherwise hang, it is not what the test checks.
func eventually(t *testing.T, what string, try func() bool) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.After(20 * time.Second)
	for !try() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("not within 20s: %s", what)
		}
	}
}

// isPanicOf reports whether err is the STORE_CALLBACK_PANIC of a panic with value cause, stack kept.
func isPanicOf(err, cause error) bool {
	var pv *ops.PanicValue
	return ops.HasCode(err, ops.CodeCallbackPanic) && errors.As(err, &pv) && len(pv.Stack) > 0 && errors.Is(err, cause)
}

// A loader that panics while 8 callers wait for it: every caller gets STORE_CALLBACK_PANIC
// (value and stack kept), the process lives, nothing is cached, the claim is released, and the
// next call loads again. Before the fix, singleflight re-panicked on a goroutine of its own and the
// test binary died, whatever recover the callers had.
func TestGuaranteeCacheLoaderPanicReachesEveryWaiter(t *testing.T) {
	srv := redistest.Start(t)
	c := instances(t, srv, 1, cache.Options{})[0]
	ctx := context.Background()
	const callers = 8
	boom := errors.New("loader bug")
	started, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	panicky := func(context.Context) (Price, error) {
		once.Do(func() { close(started) })
		<-release
		panic(boom)
	}
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	call := func() {
		wg.Go(func() {
			defer func() {
				if p := recover(); p != nil {
					errs <- errors.New("the panic reached the caller")
				}
			}()
			_, err := cache.GetOrLoad(ctx, c, "k", time.Minute, panicky)
			errs <- err
		})
	}
	call()
	<-started
	for range callers - 1 {
		call()
	}
	eventually(t, "every caller waits for the load", func() bool { return c.Stats().Misses == callers })
	close(release)
	wg.Wait()
	for range callers {
		if err := <-errs; !isPanicOf(err, boom) {
			t.Fatalf("a caller got %v, want STORE_CALLBACK_PANIC wrapping the panic", err)
		}
	}
	if n := srv.Client(t).Exists(ctx, valueKey("k"), claimKey("k")).Val(); n != 0 {
		t.Fatalf("%d of the value and the claim are left in Redis after the panic", n)
	}
	load, loads := counting(Price{"sku_1", 5}, nil)
	for range 2 {
		if p, err := cache.GetOrLoad(ctx, c, "k", time.Minute, load); err != nil || p.Cents != 5 {
			t.Fatalf("after the panic: %+v, %v", p, err)
		}
	}
	if loads.Load() != 1 {
		t.Fatalf("the next loader ran %d times, want 1 (then cached)", loads.Load())
	}
}

// A loader that panics in a background refresh (stale-while-revalidate, XFetch early refresh)
// reaches OnRefreshError as STORE_CALLBACK_PANIC; the reader still gets the cached value, the
// value stays, and the next refresh runs. Before the fix the panic killed the process.
func TestGuaranteeCacheRefreshPanicReachesOnRefreshError(t *testing.T) {
	for name, tc := range map[string]struct {
		opts    cache.Options
		advance time.Duration // on the test clock, from the load; ttl is one minute
	}{
		"stale": {cache.Options{StaleFor: time.Hour}, 61 * time.Second},
		// −ln(1−U) ≈ 36.7 with U just below 1: a load of δ ≥ 1µs, β 1e6, refreshes ≥ 36s early.
		"early": {cache.Options{Beta: 1e6, Random: func() float64 { return math.Nextafter(1, 0) }}, 59 * time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			srv := redistest.Start(t)
			clk := &clock{t: time.Unix(1_700_000_000, 0)}
			reported := make(chan error, 1)
			opts := tc.opts
			opts.Now = clk.Now
			opts.OnRefreshError = func(err error) { reported <- err }
			c := instances(t, srv, 1, opts)[0]
			ctx := context.Background()
			first, _ := counting(1, nil)
			if _, err := cache.GetOrLoad(ctx, c, "k", time.Minute, first); err != nil {
				t.Fatal(err)
			}
			clk.Add(tc.advance)
			boom := errors.New("loader bug")
			panicky := func(context.Context) (int, error) { panic(boom) }
			if v, err := cache.GetOrLoad(ctx, c, "k", time.Minute, panicky); v != 1 || err != nil {
				t.Fatalf("the read that starts the refresh = %d, %v; want the cached 1", v, err)
			}
			if err := <-reported; !isPanicOf(err, boom) {
				t.Fatalf("OnRefreshError got %v, want STORE_CALLBACK_PANIC wrapping the panic", err)
			}
			refreshed := make(chan struct{})
			var once sync.Once
			second := func(context.Context) (int, error) { once.Do(func() { close(refreshed) }); return 2, nil }
			refreshUntil(t, c, "k", second, refreshed)
			c.Close() // the refresh has stored its value
			if v, err := cache.GetOrLoad(ctx, c, "k", time.Minute, panicky); v != 2 || err != nil {
				t.Fatalf("after the next refresh = %d, %v; want 2", v, err)
			}
		})
	}
}

// refreshUntil reads key (a stale or early-refresh hit) until one of its background refreshes
// runs load, which closes ran: the refresh before may still be finishing when the first read
// comes, and a key has one background refresh at a time.
func refreshUntil(t *testing.T, c *cache.Cache, key string, load func(context.Context) (int, error), ran <-chan struct{}) {
	t.Helper()
	eventually(t, "a background refresh runs", func() bool {
		if _, err := cache.GetOrLoad(context.Background(), c, key, time.Minute, load); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ran:
			return true
		default:
			return false
		}
	})
}

// The callback rule: an OnRefreshError that panics leaves the process alive and the cache
// working: the key's next refresh runs and stores its value, and the foreground still loads.
func TestGuaranteeCachePanickingCallbackLeavesTheCacheWorking(t *testing.T) {
	srv := redistest.Start(t)
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	called := make(chan error, 1)
	c := instances(t, srv, 1, cache.Options{StaleFor: time.Hour, Now: clk.Now, OnRefreshError: func(err error) {
		called <- err
		panic("OnRefreshError bug")
	}})[0]
	ctx := context.Background()
	first, _ := counting(1, nil)
	if _, err := cache.GetOrLoad(ctx, c, "k", time.Minute, first); err != nil {
		t.Fatal(err)
	}
	clk.Add(61 * time.Second)
	dbDown := errors.New("db down")
	failing, _ := counting(0, dbDown)
	if v, err := cache.GetOrLoad(ctx, c, "k", time.Minute, failing); v != 1 || err != nil {
		t.Fatalf("stale read = %d, %v", v, err)
	}
	if err := <-called; !errors.Is(err, dbDown) {
		t.Fatalf("OnRefreshError got %v", err)
	}
	refreshed := make(chan struct{})
	var once sync.Once
	second := func(context.Context) (int, error) { once.Do(func() { close(refreshed) }); return 2, nil }
	refreshUntil(t, c, "k", second, refreshed)
	c.Close()
	if v, err := cache.GetOrLoad(ctx, c, "k", time.Minute, failing); v != 2 || err != nil {
		t.Fatalf("after the refresh = %d, %v; want 2", v, err)
	}
	other, _ := counting(3, nil)
	if v, err := cache.GetOrLoad(ctx, c, "other", time.Minute, other); v != 3 || err != nil {
		t.Fatalf("a foreground load after the panic = %d, %v", v, err)
	}
}

// A TTL the store cannot keep (above client.MaxTTL, alone or with StaleFor, or overflowing) is
// STORE_TTL_INVALID at the call, before the loader runs; such options are
// STORE_CONFIGURATION_INVALID from New, which returns no Cache. Before the fix, ttl =
// math.MaxInt64 was accepted, the store refused the write, and the loader ran on every call. The
// largest TTL the store takes works.
func TestGuaranteeCacheTTLBeyondTheStoreMaxIsRejected(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	st := storetest.Connect(t, srv.Client(t), client.New().WithService("api"))
	for name, opts := range map[string]cache.Options{
		"StaleFor MaxInt64":     {StaleFor: math.MaxInt64},
		"StaleFor negative":     {StaleFor: -time.Second},
		"NegativeTTL MaxInt64":  {NegativeTTL: math.MaxInt64},
		"NegativeTTL negative":  {NegativeTTL: -time.Second},
		"LeaseTTL MaxInt64":     {LeaseTTL: math.MaxInt64},
		"WaitTimeout overflows": {LeaseTTL: time.Hour, WaitTimeout: client.MaxTTL},
	} {
		if c, err := cache.New(st, opts); !ops.HasCode(err, ops.CodeConfigurationInvalid) || c != nil {
			t.Errorf("%s: New returned %v, %v; want STORE_CONFIGURATION_INVALID and no Cache", name, c, err)
		}
	}
	if c, err := cache.New(nil, cache.Options{}); !ops.HasCode(err, ops.CodeConfigurationInvalid) || c != nil {
		t.Errorf("nil store: New returned %v, %v; want STORE_CONFIGURATION_INVALID and no Cache", c, err)
	}
	for name, tc := range map[string]struct {
		opts cache.Options
		ttl  time.Duration
	}{
		"ttl MaxInt64":              {cache.Options{}, math.MaxInt64},
		"ttl above MaxTTL":          {cache.Options{}, client.MaxTTL + 1},
		"ttl+StaleFor above MaxTTL": {cache.Options{StaleFor: time.Hour}, client.MaxTTL},
		"ttl+StaleFor overflows":    {cache.Options{StaleFor: client.MaxTTL}, time.Minute},
	} {
		c := instances(t, srv, 1, tc.opts)[0]
		load, loads := counting(1, nil)
		for range 2 {
			if _, err := cache.GetOrLoad(ctx, c, name, tc.ttl, load); !ops.HasCode(err, ops.CodeTTLInvalid) {
				t.Errorf("%s: %v, want STORE_TTL_INVALID", name, err)
			}
		}
		if loads.Load() != 0 {
			t.Errorf("%s: the loader ran %d times", name, loads.Load())
		}
	}
	c := instances(t, srv, 1, cache.Options{})[0]
	load, loads := counting(1, nil)
	for range 2 {
		if v, err := cache.GetOrLoad(ctx, c, "max", client.MaxTTL, load); v != 1 || err != nil {
			t.Fatalf("ttl = client.MaxTTL: %d, %v", v, err)
		}
	}
	if loads.Load() != 1 {
		t.Fatalf("ttl = client.MaxTTL: the loader ran %d times, want 1 (cached)", loads.Load())
	}
	if pttl := srv.Client(t).PTTL(ctx, valueKey("max")).Val(); pttl < 100*365*24*time.Hour {
		t.Fatalf("ttl = client.MaxTTL: Redis PTTL %v", pttl)
	}
}

// Two instances (two stores, two clients) on one redis-server, LeaseTTL 200ms: while the first
// instance's loader runs (blocked until the test lets it go), its claim is renewed, so the second
// instance waits for the value instead of loading, across several LeaseTTLs. Before the fix the
// claim expired after 200ms and the second instance loaded too.
func TestGuaranteeCacheLiveLoaderIsNeverTakenOver(t *testing.T) {
	const leaseTTL = 200 * time.Millisecond
	srv := redistest.Start(t)
	caches := instances(t, srv, 2, cache.Options{LeaseTTL: leaseTTL, WaitTimeout: 5 * time.Second, PollMin: time.Millisecond, PollMax: 5 * time.Millisecond})
	ctx := context.Background()
	started, release, duplicated := make(chan struct{}), make(chan struct{}), make(chan struct{})
	first := func(context.Context) (Price, error) {
		close(started)
		<-release
		return Price{"sku_1", 1}, nil
	}
	second := func(context.Context) (Price, error) {
		close(duplicated)
		return Price{"sku_1", 2}, nil
	}
	var wg sync.WaitGroup
	got := make([]Price, 2)
	errs := make([]error, 2)
	wg.Go(func() { got[0], errs[0] = cache.GetOrLoad(ctx, caches[0], "k", time.Minute, first) })
	<-started
	wg.Go(func() { got[1], errs[1] = cache.GetOrLoad(ctx, caches[1], "k", time.Minute, second) })
	eventually(t, "the second instance waits on the claim", func() bool { return caches[1].Stats().Waits == 1 })
	// Real time: the first claim would have expired twice over without renewal.
	select {
	case <-duplicated:
		t.Error("the second instance loaded while the first instance's loader was running")
	case <-time.After(3 * leaseTTL):
	}
	close(release)
	wg.Wait()
	for i := range got {
		if errs[i] != nil || got[i].Cents != 1 {
			t.Fatalf("instance %d: %+v, %v; want the first instance's value", i, got[i], errs[i])
		}
	}
	if s := caches[1].Stats(); s.Loads != 0 || s.WaitTimeouts != 0 {
		t.Fatalf("second instance: %+v, want no load", s)
	}
	if n := srv.Client(t).Exists(ctx, claimKey("k")).Val(); n != 0 {
		t.Fatal("the load claim was left behind")
	}
}

// The limit of that guarantee: a claim nobody renews (its instance died while loading) expires
// after LeaseTTL, and a waiting instance then loads, long before its WaitTimeout.
func TestGuaranteeCacheDeadHoldersClaimExpires(t *testing.T) {
	const leaseTTL = 200 * time.Millisecond
	srv := redistest.Start(t)
	c := instances(t, srv, 1, cache.Options{LeaseTTL: leaseTTL, WaitTimeout: time.Hour, PollMin: time.Millisecond, PollMax: 5 * time.Millisecond})[0]
	ctx := context.Background()
	if err := srv.Client(t).Set(ctx, claimKey("k"), `"dead-instance"`, leaseTTL).Err(); err != nil {
		t.Fatal(err)
	}
	load, loads := counting(7, nil)
	if v, err := cache.GetOrLoad(ctx, c, "k", time.Minute, load); v != 7 || err != nil {
		t.Fatalf("= %d, %v", v, err)
	}
	if s := c.Stats(); loads.Load() != 1 || s.Waits != 1 || s.WaitTimeouts != 0 {
		t.Fatalf("loads %d, stats %+v: want one wait that ended with the claim's expiry", loads.Load(), s)
	}
}

// Loading ever-new keys leaves nothing behind but their (expiring) values: the load claim keeps
// no fencing counter. A cache keyed per user or request would otherwise grow Redis for ever.
func TestGuaranteeCacheLoadsLeaveOnlyTheirValues(t *testing.T) {
	srv := redistest.Start(t)
	c := instances(t, srv, 1, cache.Options{})[0]
	ctx := context.Background()
	for _, k := range []string{"a", "b", "c"} {
		if _, err := cache.GetOrLoad(ctx, c, k, time.Minute, func(context.Context) (int, error) { return 1, nil }); err != nil {
			t.Fatal(err)
		}
	}
	rdb := srv.Client(t)
	keys := rdb.Keys(ctx, "*").Val()
	if len(keys) != 3 {
		t.Fatalf("Redis holds %v; want the 3 cached values only", keys)
	}
	for _, k := range keys {
		if ttl := rdb.PTTL(ctx, k).Val(); ttl <= 0 {
			t.Fatalf("%s has no expiry (PTTL %v)", k, ttl)
		}
	}
}
