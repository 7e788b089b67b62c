package nearcache_test

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/faultproxy"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/nearcache"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/storetest"
)

// panicHandler is a slog.Handler that panics on every record at or above Error.
type panicHandler struct{ slog.Handler }

func (h panicHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		panic("log sink bug")
	}
	return h.Handler.Handle(ctx, r)
}

// The near cache calls the store's observers and logger on go-redis's connection reader, where
// no caller can recover a panic. A panicking Observer (on the invalidation signal) or slog
// handler (the default OnError) must not kill the process, and invalidations must keep applying.
// Before the fix, the first invalidation killed the test binary on go-redis's drainer goroutine.
func TestGuaranteePanickingObserverOrLoggerLeavesTheNearCacheWorking(t *testing.T) {
	srv := redistest.Start(t)
	errs := make(chan error, 64)
	obs := ops.ObserverFunc(func(_ context.Context, s ops.Signal) {
		if s.Kind == ops.SignalNearInvalidated {
			panic("observer bug")
		}
	})
	logger := slog.New(panicHandler{slog.DiscardHandler})
	st := storetest.Connect(t, srv.Client(t), client.New().WithService("api").WithObserver(obs).WithLogger(logger))
	tenant := st.MustScope("organization", "org_1")
	plain := srv.Client(t)
	ctx := context.Background()
	for name, opts := range map[string]nearcache.Options{
		// OnError set: the observer's panic reaches it.
		"OnError": {Redis: &redis.Options{Addr: srv.Addr}, OnError: func(err error) { errs <- err }},
		// OnError unset: the panic goes to the store's logger, whose handler panics too.
		"logger": {Redis: &redis.Options{Addr: srv.Addr}},
	} {
		t.Run(name, func(t *testing.T) {
			nc, err := nearcache.New(tenant, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			for i := 1; i <= 3; i++ {
				before := nc.Stats().Invalidations
				if err := plain.Set(ctx, fullKey, `{"sku":"sku_1","cents":`+strconv.Itoa(i)+`}`, 0).Err(); err != nil {
					t.Fatal(err)
				}
				if i > 1 { // the previous round cached the key: this write's invalidation is signalled
					if opts.OnError != nil {
						select {
						case err := <-errs:
							var pv *ops.PanicValue
							if !ops.HasCode(err, ops.CodeCallbackPanic) || !errors.As(err, &pv) || pv.Value != "observer bug" {
								t.Fatalf("OnError got %v, want STORE_CALLBACK_PANIC wrapping the observer's panic", err)
							}
						case <-time.After(10 * time.Second):
							t.Fatal("no OnError call within 10s of an invalidation")
						}
					}
					for nc.Stats().Invalidations == before { // applied (counted before the signal)
						if _, err := plain.Ping(ctx).Result(); err != nil {
							t.Fatal(err)
						}
					}
				}
				warm(t, nc, i)
			}
		})
	}
}

// MaxEntries is accepted up to math.MaxInt. The near cache's table of expiry instants is sized
// from it; a size that overflows must not turn every hit into a PTTL round trip ("none per hit").
func TestGuaranteeHugeMaxEntriesKeepsHitsOffTheNetwork(t *testing.T) {
	srv := redistest.Start(t)
	st := storetest.Connect(t, srv.Client(t), client.New().WithService("api"))
	tenant := st.MustScope("organization", "org_1")
	nc, err := nearcache.New(tenant, nearcache.Options{Redis: &redis.Options{Addr: srv.Addr}, MaxEntries: math.MaxInt})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ctx := context.Background()
	for _, k := range []string{"price:sku_1", "price:sku_2"} {
		if err := tenant.KV.Set(ctx, k, Price{k, 7}, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	var p Price
	for range 2 { // both keys fetched and their expiry learnt
		for _, k := range []string{"price:sku_1", "price:sku_2"} {
			if _, err := nc.Get(ctx, k, &p); err != nil {
				t.Fatal(err)
			}
		}
	}
	plain := srv.Client(t)
	pttl := func() int {
		info, err := plain.Info(ctx, "commandstats").Result()
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.SplitSeq(info, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_pttl:calls="); ok {
				n, err := strconv.Atoi(v[:strings.IndexByte(v, ',')])
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
		}
		return 0
	}
	if err := plain.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	misses := nc.Stats().Misses
	for range 10 {
		for _, k := range []string{"price:sku_1", "price:sku_2"} {
			if found, err := nc.Get(ctx, k, &p); err != nil || !found || p.Cents != 7 {
				t.Fatalf("%s: found %v %+v, err %v", k, found, p, err)
			}
		}
	}
	if m := nc.Stats().Misses; m != misses {
		t.Fatalf("%d misses during the hits", m-misses)
	}
	if n := pttl(); n != 0 {
		t.Fatalf("20 hits sent %d PTTL commands; a hit must not touch the network", n)
	}
}

// Another client shortening the key's TTL (PEXPIRE) reaches the near cache as that write's
// invalidation, like any other client's write: until it is applied a hit may still serve the
// value past the new expiry (here: an idle connection and DrainInterval 1h, which must be
// honoured); once it is applied (a read on the connection processes it), the key reads as
// absent. The package doc said "never served after its key's TTL ends"; it now says the TTL the
// key had when the value was fetched, and that another client's change counts as its write.
func TestGuaranteeDrainIntervalAndOtherClientsTTLChange(t *testing.T) {
	srv, plain, tenant := startWithoutActiveExpiry(t)
	ctx := context.Background()
	nc, err := nearcache.New(tenant, nearcache.Options{
		Redis:         &redis.Options{Addr: srv.Addr, PoolSize: 1},
		DrainInterval: time.Hour, // the idle connection is not swept during the test
	})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if err := tenant.KV.Set(ctx, "price:sku_1", Price{"sku_1", 7}, 0); err != nil {
		t.Fatal(err)
	}
	warm(t, nc, 7) // cached, no expiry
	if err := plain.PExpire(ctx, fullKey, 50*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	awaitServerPastExpiry(t, plain) // the new expiry; the key itself is not touched
	// The documented window: the invalidation sits unread on the idle connection, which the
	// drainer sweeps only every DrainInterval (1h). Before the fix DrainInterval was ignored
	// (go-redis swept every 5ms whatever it said), so this hit already missed.
	var p Price
	if found, err := nc.Get(ctx, "price:sku_1", &p); err != nil || !found || p.Cents != 7 {
		t.Fatalf("a hit before the idle connection was swept: found %v (%+v), err %v; want the cached value (DrainInterval not honoured)", found, p, err)
	}
	// A miss on the connection reads the pending invalidation before its reply.
	if _, err := nc.Get(ctx, "price:other", &p); err != nil {
		t.Fatal(err)
	}
	if found, err := nc.Get(ctx, "price:sku_1", &p); err != nil || found {
		t.Fatalf("after the TTL change's invalidation was applied: found %v (%+v), err %v; want absent", found, p, err)
	}
}

// A read whose fetch began before a write of the near cache's own store, and whose reply (the
// old value) arrives late, after the write was acknowledged, must not leave that old value in
// the near cache: a read that starts after the write's acknowledgement returns the new value.
// (Held: the write's local drop removes the in-flight reservation, so the late reply is not
// published.)
func TestGuaranteeLateFetchReplyAfterOwnWriteIsNotCached(t *testing.T) {
	srv := redistest.Start(t)
	proxy := faultproxy.Start(t, srv.Addr)
	st := storetest.Connect(t, srv.Client(t), client.New().WithService("api"))
	tenant := st.MustScope("organization", "org_1")
	nc, err := nearcache.New(tenant, nearcache.Options{Redis: &redis.Options{Addr: proxy.Addr, PoolSize: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ctx := context.Background()
	var p Price
	if _, err := nc.Get(ctx, "price:other", &p); err != nil { // the connection is set up
		t.Fatal(err)
	}
	if err := tenant.KV.Set(ctx, "price:sku_1", Price{"sku_1", 1}, 0); err != nil {
		t.Fatal(err)
	}
	held, release := proxy.HoldReplyTo("get")
	early := make(chan int, 1)
	go func() {
		var p Price
		if _, err := nc.Get(ctx, "price:sku_1", &p); err != nil {
			t.Error(err)
		}
		early <- p.Cents
	}()
	<-held // Redis answered the GET with the old value; the reply is on its way
	if err := tenant.KV.Set(ctx, "price:sku_1", Price{"sku_1", 2}, 0); err != nil {
		t.Fatal(err)
	}
	release()
	if got := <-early; got != 1 {
		t.Fatalf("the read that started before the write returned %d, want 1", got)
	}
	for range 3 {
		if got := read(t, nc); got != 2 {
			t.Fatalf("a read after the write was acknowledged returned %d, want 2", got)
		}
	}
}

func (panicHandler) Enabled(context.Context, slog.Level) bool { return true }
