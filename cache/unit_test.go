package cache_test

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/igniter-go/store/cache"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/storetest"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func counting[T any](v T, err error) (func(context.Context) (T, error), *atomic.Int64) {
	var n atomic.Int64
	return func(context.Context) (T, error) { n.Add(1); return v, err }, &n
}

func TestLoaderErrorsAreNeverCached(t *testing.T) {
	st := storetest.New(t)
	c := newCache(t, st.Store, cache.Options{NegativeTTL: time.Hour})
	defer c.Close()
	ctx := context.Background()
	boom := errors.New("db down")
	load, n := counting(0, boom)
	for range 3 {
		_, err := cache.GetOrLoad(ctx, c, "k", time.Minute, load)
		if !errors.Is(err, boom) || !ops.HasCode(err, ops.CodeOperationFailed) {
			t.Fatalf("err = %v", err)
		}
	}
	if n.Load() != 3 {
		t.Fatalf("loader ran %d times, want 3: an error must not be cached", n.Load())
	}
	if st.Redis.Exists("igniter:store:test:kv:cache:k") {
		t.Fatal("an error was written to the cache")
	}
	if st.Redis.Exists("igniter:store:test:claim:cache:k") {
		t.Fatal("the load claim was not released after the failure")
	}
}

func TestNotFoundIsCachedForNegativeTTLOnly(t *testing.T) {
	st := storetest.New(t)
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	c := newCache(t, st.Store, cache.Options{NegativeTTL: time.Minute, Now: clk.Now})
	defer c.Close()
	ctx := context.Background()
	load, n := counting("", cache.ErrNotFound)
	for range 2 {
		if _, err := cache.GetOrLoad(ctx, c, "user:9", time.Hour, load); !errors.Is(err, cache.ErrNotFound) {
			t.Fatalf("err = %v", err)
		}
	}
	if n.Load() != 1 {
		t.Fatalf("loader ran %d times, want 1", n.Load())
	}
	if ttl := st.Redis.TTL("igniter:store:test:kv:cache:user:9"); ttl != time.Minute {
		t.Fatalf("negative entry TTL %v, want 1m", ttl)
	}
	clk.Add(time.Minute)
	if _, err := cache.GetOrLoad(ctx, c, "user:9", time.Hour, load); !errors.Is(err, cache.ErrNotFound) || n.Load() != 2 {
		t.Fatalf("after NegativeTTL: err %v, loads %d", err, n.Load())
	}

	off := newCache(t, st.Store, cache.Options{Prefix: "nocache"})
	defer off.Close()
	for range 2 {
		_, _ = cache.GetOrLoad(ctx, off, "user:9", time.Hour, load)
	}
	if n.Load() != 4 {
		t.Fatalf("without NegativeTTL not-found must not be cached: %d loads", n.Load())
	}
}

// After expiry, StaleFor serves the old value at once and refreshes once in the background.
func TestStaleWhileRevalidate(t *testing.T) {
	st := storetest.New(t)
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	refreshed := make(chan struct{})
	var calls atomic.Int64
	c := newCache(t, st.Store, cache.Options{StaleFor: time.Minute, Now: clk.Now})
	ctx := context.Background()
	load := func(context.Context) (int, error) {
		n := int(calls.Add(1))
		if n == 2 {
			defer close(refreshed)
		}
		return n, nil
	}
	if v, _ := cache.GetOrLoad(ctx, c, "k", 10*time.Second, load); v != 1 {
		t.Fatalf("first load = %d", v)
	}
	if ttl := st.Redis.TTL("igniter:store:test:kv:cache:k"); ttl != 70*time.Second {
		t.Fatalf("Redis TTL %v, want ttl+StaleFor = 70s", ttl)
	}
	clk.Add(11 * time.Second)
	if v, err := cache.GetOrLoad(ctx, c, "k", 10*time.Second, load); v != 1 || err != nil {
		t.Fatalf("stale read = %d, %v; want the old value at once", v, err)
	}
	<-refreshed
	c.Close() // waits for the refresh to have stored its value
	if v, _ := cache.GetOrLoad(ctx, c, "k", 10*time.Second, load); v != 2 {
		t.Fatalf("after the refresh = %d, want 2", v)
	}
	if s := c.Stats(); s.Stale != 1 || s.Loads != 2 || s.Misses != 1 {
		t.Fatalf("stats %+v", s)
	}
}

// With Beta set, a hit whose draw lands past expiry refreshes in the background and is still
// answered from the cache; a draw that does not, does not. The loader's δ is measured on the real
// clock (microseconds here), so Beta is large to make the draws meaningful on the test clock.
func TestXFetchRefreshesEarlyInTheBackground(t *testing.T) {
	st := storetest.New(t)
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	var u atomic.Value
	u.Store(0.5) // −ln(1−U) ≈ 0.69: δ·β·0.69 ≈ 0.7s per µs of δ … at most a few s
	c := newCache(t, st.Store, cache.Options{Beta: 1e6, Now: clk.Now, Random: func() float64 { return u.Load().(float64) }})
	ctx := context.Background()
	var calls atomic.Int64
	load := func(context.Context) (int64, error) { return calls.Add(1), nil }
	_, _ = cache.GetOrLoad(ctx, c, "k", 24*time.Hour, load)
	if v, _ := cache.GetOrLoad(ctx, c, "k", 24*time.Hour, load); v != 1 || c.Stats().EarlyRefreshes != 0 {
		t.Fatalf("a hit a day from expiry refreshed: v=%d stats %+v", v, c.Stats())
	}
	clk.Add(24*time.Hour - time.Second)
	u.Store(math.Nextafter(1, 0)) // −ln(1−U) ≈ 36.7: δ·β·36.7 ≥ 36s ≥ the second left
	if v, _ := cache.GetOrLoad(ctx, c, "k", 24*time.Hour, load); v != 1 {
		t.Fatalf("the early-refresh hit must answer from the cache, got %d", v)
	}
	c.Close()
	if s := c.Stats(); s.EarlyRefreshes != 1 || s.Misses != 1 || calls.Load() != 2 {
		t.Fatalf("want one early refresh and no miss after the first: stats %+v, loads %d", s, calls.Load())
	}
	if v, _ := cache.GetOrLoad(ctx, c, "k", 24*time.Hour, load); v != 2 {
		t.Fatalf("after the early refresh = %d, want 2", v)
	}
}

func TestInvalidArguments(t *testing.T) {
	st := storetest.New(t)
	c := newCache(t, st.Store, cache.Options{})
	defer c.Close()
	ctx := context.Background()
	load := func(context.Context) (int, error) { return 1, nil }
	for name, tc := range map[string]struct {
		key  string
		ttl  time.Duration
		load func(context.Context) (int, error)
		code ops.Code
	}{
		"empty key": {"", time.Second, load, ops.CodeKeyRequired},
		"zero ttl":  {"k", 0, load, ops.CodeTTLInvalid},
		"no loader": {"k", time.Second, nil, ops.CodeValueRequired},
	} {
		if _, err := cache.GetOrLoad(ctx, c, tc.key, tc.ttl, tc.load); !ops.HasCode(err, tc.code) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// An instance that holds the load claim and never finishes (it died) delays others by
// WaitTimeout at most: then they load themselves.
func TestWaitTimeoutLoadsWhenTheClaimHolderIsGone(t *testing.T) {
	st := storetest.New(t)
	c := newCache(t, st.Store, cache.Options{WaitTimeout: 50 * time.Millisecond, PollMin: time.Millisecond, PollMax: 5 * time.Millisecond})
	defer c.Close()
	ctx := context.Background()
	if err := st.Redis.Set("igniter:store:test:claim:cache:k", `"dead-instance"`); err != nil {
		t.Fatal(err)
	}
	st.Redis.SetTTL("igniter:store:test:claim:cache:k", time.Hour)
	load, n := counting(7, nil)
	if v, err := cache.GetOrLoad(ctx, c, "k", time.Minute, load); v != 7 || err != nil {
		t.Fatalf("= %d, %v", v, err)
	}
	if s := c.Stats(); n.Load() != 1 || s.Waits != 1 || s.WaitTimeouts != 1 {
		t.Fatalf("loads %d, stats %+v", n.Load(), s)
	}
	if got, _ := st.Redis.Get("igniter:store:test:claim:cache:k"); got != `"dead-instance"` {
		t.Fatalf("the other instance's claim was touched: %q", got)
	}
}

// A caller whose ctx ends stops waiting at once with a coded error; the shared load goes on and
// the callers still waiting get its value.
func TestCanceledCallerLeavesTheSharedLoad(t *testing.T) {
	st := storetest.New(t)
	c := newCache(t, st.Store, cache.Options{})
	defer c.Close()
	release := make(chan struct{})
	started := make(chan struct{})
	load := func(context.Context) (string, error) {
		close(started)
		<-release
		return "v", nil
	}
	cctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := cache.GetOrLoad(cctx, c, "k", time.Minute, load)
		errc <- err
	}()
	<-started
	done := make(chan string, 1)
	go func() {
		v, _ := cache.GetOrLoad(context.Background(), c, "k", time.Minute, load)
		done <- v
	}()
	cancel()
	if err := <-errc; !ops.HasCode(err, ops.CodeCanceled) {
		t.Fatalf("canceled caller: %v", err)
	}
	close(release)
	if v := <-done; v != "v" {
		t.Fatalf("the waiting caller got %q", v)
	}
}

// Data under a cache key that is not a cache entry (another writer's, or a T that changed
// shape) is a miss: the loader runs and the entry replaces it.
func TestForeignDataIsAMiss(t *testing.T) {
	st := storetest.New(t)
	c := newCache(t, st.Store, cache.Options{})
	defer c.Close()
	ctx := context.Background()
	for _, raw := range []string{`not json`, `{"sku":"x"}`, `{"v":"text","d":1,"f":99999999999999}`} {
		if err := st.Redis.Set("igniter:store:test:kv:cache:k", raw); err != nil {
			t.Fatal(err)
		}
		load, n := counting(Price{"sku_1", 5}, nil)
		if p, err := cache.GetOrLoad(ctx, c, "k", time.Minute, load); err != nil || p.Cents != 5 || n.Load() != 1 {
			t.Fatalf("over %q: %+v, %v, %d loads", raw, p, err, n.Load())
		}
	}
}
