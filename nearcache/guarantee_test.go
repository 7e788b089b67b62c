package nearcache_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/nearcache"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/storetest"
)

// readCents reads price:sku_1 through nc and returns its cents (0 when absent).
func readCents(nc *nearcache.Near) (int, error) {
	var p Price
	_, err := nc.Get(context.Background(), "price:sku_1", &p)
	return p.Cents, err
}

// startWithoutActiveExpiry starts a redis-server with active expiry off (a key expires only when
// touched, so Redis sends no invalidation for it) and returns it, a plain client of it and a
// scoped store on it.
func startWithoutActiveExpiry(t *testing.T) (*redistest.Server, *redis.Client, *client.Store) {
	t.Helper()
	srv := redistest.Start(t, "--enable-debug-command", "yes")
	plain := srv.Client(t)
	if err := plain.Do(context.Background(), "DEBUG", "SET-ACTIVE-EXPIRE", "0").Err(); err != nil {
		t.Fatal(err)
	}
	st := storetest.Connect(t, srv.Client(t), client.New().WithService("api"))
	return srv, plain, st.MustScope("organization", "org_1")
}

// awaitServerPastExpiry waits until the server's own clock (TIME) passes fullKey's expiry,
// touching no key.
func awaitServerPastExpiry(t *testing.T, plain *redis.Client) {
	t.Helper()
	ctx := context.Background()
	expireAt, err := plain.PExpireTime(ctx, fullKey).Result()
	if err != nil || expireAt <= 0 {
		t.Fatalf("PEXPIRETIME: %v %v", expireAt, err)
	}
	for {
		now, err := plain.Time(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		if now.UnixMilli() > expireAt.Milliseconds() {
			return
		}
	}
}

// discard drains events until the test ends, so the hook never blocks.
func discard(t *testing.T, events chan nearcache.Event) {
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			select {
			case <-events:
			case <-done:
				return
			}
		}
	}()
	t.Cleanup(func() { close(done); <-stopped })
}

// stress runs write(i) for i = 1..writes on one goroutine while two readers read through nc
// until the writer is done. Before each read a reader loads floor(): the value every read that
// starts then must return at least. It returns the reads below their floor.
func stress(t *testing.T, nc *nearcache.Near, writes int, write func(i int) error, floor func() int) []string {
	t.Helper()
	done := make(chan struct{})
	var (
		mu    sync.Mutex
		stale []string
		wg    sync.WaitGroup
		reads atomic.Int64
	)
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				want := floor()
				got, err := readCents(nc)
				if err != nil {
					t.Error(err)
					return
				}
				reads.Add(1)
				if got < want {
					mu.Lock()
					stale = append(stale, fmt.Sprintf("read %d after %d was applied", got, want))
					mu.Unlock()
				}
			}
		})
	}
	for i := 1; i <= writes; i++ {
		if err := write(i); err != nil {
			t.Error(err)
			break
		}
	}
	close(done)
	wg.Wait()
	t.Logf("%d writes, %d concurrent reads, %d stale", writes, reads.Load(), len(stale))
	return stale
}

// A write acknowledged through the near cache's own store is never followed by a stale read:
// the store tells the near cache before the write returns. Sequentially (read right after each
// acknowledged write), then with a writer and two readers running at once.
func TestGuaranteeOwnStoreWriteIsNeverFollowedByAStaleRead(t *testing.T) {
	st, nc, events, _ := setup(t)
	discard(t, events)
	ctx := context.Background()
	stale := 0
	for i := 1; i <= 50; i++ {
		if err := st.KV.Set(ctx, "price:sku_1", Price{"sku_1", i}, 0); err != nil {
			t.Fatal(err)
		}
		if got := read(t, nc); got != i {
			stale++
		}
		read(t, nc) // a hit: the next write finds the key cached
	}
	if stale > 0 {
		t.Fatalf("%d of 50 reads right after an acknowledged write of the same store returned the old value", stale)
	}

	var acked atomic.Int64
	got := stress(t, nc, 300, func(i int) error {
		err := st.KV.Set(ctx, "price:sku_1", Price{"sku_1", 1000 + i}, 0)
		acked.Store(int64(1000 + i))
		return err
	}, func() int { return int(acked.Load()) })
	if len(got) > 0 {
		t.Fatalf("%d stale reads after acknowledged writes, e.g. %s", len(got), got[0])
	}
}

// Another client's write reaches the near cache as Redis's invalidation. Every read that
// starts after the near cache applied it returns the new value (or a newer one); the window
// between the writer's acknowledgement and that point is measured and logged, not asserted.
// One pooled connection, so each write sends exactly one invalidation (a key read on two
// connections is tracked, and invalidated, on both) and the writer knows which event is its.
func TestGuaranteeOtherClientWriteIsSeenOnceItsInvalidationIsApplied(t *testing.T) {
	srv := redistest.Start(t)
	st := storetest.Connect(t, srv.Client(t), client.New().WithService("api")).MustScope("organization", "org_1")
	events := make(chan nearcache.Event, 16)
	nc, err := nearcache.New(st, nearcache.Options{
		Redis:   &redis.Options{Addr: srv.Addr, PoolSize: 1},
		OnEvent: func(e nearcache.Event) { events <- e },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	plain := srv.Client(t)
	ctx := context.Background()
	if err := st.KV.Set(ctx, "price:sku_1", Price{"sku_1", 0}, 0); err != nil {
		t.Fatal(err)
	}
	var applied atomic.Int64
	var windows []time.Duration
	stale := stress(t, nc, 200, func(i int) error {
		if _, err := readCents(nc); err != nil { // cached, so Redis tracks it: the write invalidates
			return err
		}
		if err := plain.Set(ctx, fullKey, `{"sku":"sku_1","cents":`+strconv.Itoa(i)+`}`, 0).Err(); err != nil {
			return err
		}
		acked := time.Now()
		for e := range events {
			if e.Kind == nearcache.Invalidated {
				break
			}
		}
		windows = append(windows, time.Since(acked))
		applied.Store(int64(i))
		return nil
	}, func() int { return int(applied.Load()) })
	if len(stale) > 0 {
		t.Fatalf("%d reads that started after the invalidation was applied returned an older value, e.g. %s", len(stale), stale[0])
	}
	slices.Sort(windows)
	q := func(f float64) time.Duration { return windows[int(f*float64(len(windows)-1))] }
	t.Logf("write acknowledged → invalidation applied: p50 %v, p90 %v, p99 %v, max %v (%d writes)",
		q(0.5), q(0.9), q(0.99), windows[len(windows)-1], len(windows))
}

// A near-cache entry never outlives its key's expiry, even when Redis has not expired the key
// yet (lazy expiry sends no invalidation until the key is touched; active expiry is off here).
// The test waits on the server's own clock (TIME), touching no key.
func TestGuaranteeEntryNeverOutlivesItsKeysTTL(t *testing.T) {
	srv, plain, tenant := startWithoutActiveExpiry(t)
	ctx := context.Background()
	nc, err := nearcache.New(tenant, nearcache.Options{Redis: &redis.Options{Addr: srv.Addr}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })

	if err := tenant.KV.Set(ctx, "price:sku_1", Price{"sku_1", 7}, 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	warm(t, nc, 7)
	awaitServerPastExpiry(t, plain) // the key itself is not touched
	var p Price
	found, err := nc.Get(ctx, "price:sku_1", &p)
	if err != nil || found {
		t.Fatalf("after its key's TTL: found %v (%+v), err %v; want not found", found, p, err)
	}
	if found, err := tenant.KV.Get(ctx, "price:sku_1", &p); err != nil || found {
		t.Fatalf("KV.Get after the TTL: found %v, err %v", found, err)
	}
}

// A store whose Required() scope is not applied gets STORE_SCOPE_REQUIRED from Near.Get, as
// from KV.Get, and never another writer's value; a scoped store of the same build reads.
func TestGuaranteeMissingRequiredScopeIsRefused(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	root := storetest.Connect(t, srv.Client(t), client.New().WithService("api").AddScope("organization", client.Required()))
	// Another writer (the Node original, a script) left an unscoped value where an unscoped
	// read would look.
	if err := srv.Client(t).Set(ctx, "igniter:store:api:kv:price:sku_1", `{"sku":"sku_1","cents":666}`, 0).Err(); err != nil {
		t.Fatal(err)
	}
	var p Price
	if _, err := root.KV.Get(ctx, "price:sku_1", &p); !ops.HasCode(err, ops.CodeScopeRequired) {
		t.Fatalf("KV.Get on the unscoped store: %v, want STORE_SCOPE_REQUIRED", err)
	}
	for name, opts := range map[string]nearcache.Options{
		"on":  {Redis: &redis.Options{Addr: srv.Addr}},
		"off": {Off: true},
	} {
		nc, err := nearcache.New(root, opts)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 { // a miss, then what would be a hit
			found, err := nc.Get(ctx, "price:sku_1", &p)
			if !ops.HasCode(err, ops.CodeScopeRequired) || found {
				t.Errorf("%s: Near.Get on the unscoped store: found %v (%+v), err %v; want STORE_SCOPE_REQUIRED", name, found, p, err)
			}
		}
		_ = nc.Close()
	}
	tenant := root.MustScope("organization", "org_1")
	if err := tenant.KV.Set(ctx, "price:sku_1", Price{"sku_1", 5}, 0); err != nil {
		t.Fatal(err)
	}
	nc, err := nearcache.New(tenant, nearcache.Options{Redis: &redis.Options{Addr: srv.Addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	warm(t, nc, 5)
}

// A panicking OnEvent hook neither kills the process nor stops the near cache: the panic
// reaches OnError as STORE_CALLBACK_PANIC with its value, and invalidations keep applying.
func TestGuaranteePanickingOnEventLeavesTheNearCacheWorking(t *testing.T) {
	srv := redistest.Start(t)
	st := storetest.Connect(t, srv.Client(t), client.New().WithService("api"))
	tenant := st.MustScope("organization", "org_1")
	errs := make(chan error, 64)
	nc, err := nearcache.New(tenant, nearcache.Options{
		Redis:   &redis.Options{Addr: srv.Addr},
		OnEvent: func(nearcache.Event) { panic("hook bug") },
		OnError: func(err error) { errs <- err },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	plain := srv.Client(t)
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		if err := plain.Set(ctx, fullKey, `{"sku":"sku_1","cents":`+strconv.Itoa(i)+`}`, 0).Err(); err != nil {
			t.Fatal(err)
		}
		if i > 1 { // the previous round cached the key: this write's invalidation reaches the hook
			select {
			case err := <-errs:
				var pv *ops.PanicValue
				if !ops.HasCode(err, ops.CodeCallbackPanic) || !errors.As(err, &pv) || pv.Value != "hook bug" {
					t.Fatalf("OnError got %v, want STORE_CALLBACK_PANIC wrapping the panic value", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("no OnError call within 10s of an invalidation")
			}
		}
		warm(t, nc, i) // the invalidation was applied: the new value is read, then cached
	}
}
