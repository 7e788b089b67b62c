package nearcache

// Review R1: adversarial tests of the near cache's promises (doc.go, "What a read returns around
// a write"; docs/guarantees.md G13, G14) against a real redis-server. Internal package, so the
// hit-path test can hold the write table's lock.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/faultproxy"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/storetest"
)

type r1Price struct {
	SKU   string `json:"sku"`
	Cents int    `json:"cents"`
}

const (
	r1Key  = "price:sku_1"
	r1Full = "igniter:store:api:organization:org_1:kv:price:sku_1"
)

// r1Env is a redis-server, a store that reaches it through storeProxy, and a near cache on the
// store's tenant scope that reaches it through nearProxy.
type r1Env struct {
	srv                   *redistest.Server
	storeProxy, nearProxy *faultproxy.Proxy
	root, tenant          *client.Store
	near                  *Near
	plain                 *redis.Client
}

// r1Start builds the environment; opts, given nearProxy's address, are the near cache's. A nil
// opts.Redis gets one connection through nearProxy; a zero DrainInterval gets 1h, so Redis's own
// invalidation of the store's write waits on the idle connection and what the near cache serves
// meanwhile is its own doing.
func r1Start(t *testing.T, b *client.Builder, optsFor func(nearAddr string) Options) *r1Env {
	t.Helper()
	e := &r1Env{srv: redistest.Start(t)}
	e.storeProxy = faultproxy.Start(t, e.srv.Addr)
	e.nearProxy = faultproxy.Start(t, e.srv.Addr)
	rdb := redis.NewClient(&redis.Options{Addr: e.storeProxy.Addr, MaxRetries: -1, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = rdb.Close() })
	e.root = storetest.Connect(t, rdb, b.WithService("api"))
	e.tenant = e.root.MustScope("organization", "org_1")
	var opts Options
	if optsFor != nil {
		opts = optsFor(e.nearProxy.Addr)
	}
	if opts.Redis == nil {
		opts.Redis = &redis.Options{Addr: e.nearProxy.Addr, PoolSize: 1}
	}
	if opts.DrainInterval == 0 {
		opts.DrainInterval = time.Hour
	}
	n, err := New(e.tenant, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	e.near = n
	e.plain = e.srv.Client(t)
	return e
}

// r1Read reads r1Key through n: its cents, and whether it exists.
func r1Read(t *testing.T, n *Near) (int, bool) {
	t.Helper()
	var p r1Price
	found, err := n.Get(context.Background(), r1Key, &p)
	if err != nil {
		t.Fatalf("near Get: %v", err)
	}
	return p.Cents, found
}

// r1Warm reads r1Key until a read is a hit, each returning cents want. Redis's own invalidation
// of an earlier write of the store may still arrive with the first fetch and keep it from being
// published (one extra miss), so a few reads are allowed.
func r1Warm(t *testing.T, n *Near, want int) {
	t.Helper()
	for range 5 {
		before := n.Stats()
		if got, _ := r1Read(t, n); got != want {
			t.Fatalf("warm: cents %d, want %d", got, want)
		}
		if n.Stats().Hits > before.Hits {
			return
		}
	}
	t.Fatalf("warm: 5 reads and no hit: %+v", n.Stats())
}

// r1ReadUncached reads r1Key through n a few times: each read must return cents want, and none
// may be a hit. For a key a write of the store may still reach Redis: the near cache must not
// cache it, whatever else was acknowledged meanwhile.
func r1ReadUncached(t *testing.T, n *Near, want int, why string) {
	t.Helper()
	before := n.Stats()
	for range 3 {
		if got, _ := r1Read(t, n); got != want {
			t.Fatalf("near: cents %d, want %d", got, want)
		}
	}
	if after := n.Stats(); after.Hits != before.Hits {
		t.Fatalf("the key was served from memory %s: stats %+v → %+v", why, before, after)
	}
}

// r1AwaitSettled waits until the near cache holds no write of r1Full in flight nor of unknown
// outcome: the store reported the end of every write of it (an abandoned pipelined write ends
// once it is answered or dropped, on the pipeline's goroutine).
func r1AwaitSettled(t *testing.T, n *Near) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for n.cache.writes.busy(r1Full) {
		if time.Now().After(deadline) {
			t.Fatal("the key stayed busy: a write of it never ended, or ended with an unknown outcome")
		}
		time.Sleep(time.Millisecond)
	}
}

// r1Redis returns what Redis holds under r1Full right now: cents and whether it exists.
func r1Redis(t *testing.T, plain *redis.Client) (int, bool) {
	t.Helper()
	raw, err := plain.Get(context.Background(), r1Full).Result()
	if err == redis.Nil {
		return 0, false
	}
	if err != nil {
		t.Fatal(err)
	}
	var p r1Price
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		t.Fatal(err)
	}
	return p.Cents, true
}

// r1AwaitRedis polls Redis until it holds (cents, found): the held write has been applied.
func r1AwaitRedis(t *testing.T, plain *redis.Client, cents int, found bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, f := r1Redis(t, plain)
		if f == found && (!found || c == cents) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Redis holds (%d, %v), want (%d, %v)", c, f, cents, found)
		}
		time.Sleep(time.Millisecond)
	}
}

// Every kind of kv write of the store (KV.Set from a second store object of the same scope,
// SetIfAbsent, Remove, Expire, Touch, Batch.Set, a Set of a huge value, and a Set while the near
// cache's own connection is killed) is held in flight: Redis ran it, its reply waits at the
// fault proxy. A plain read shows the new state; the near cache, which had cached the old state,
// must return the new one too, and not from memory.
func TestR1EveryKVWriteKindIsLinearizableInFlight(t *testing.T) {
	huge := strings.Repeat("x", 4<<20)
	cases := []struct {
		name string
		// absent: the key is absent before the write (else it holds cents 1, no TTL).
		absent bool
		// cmd is the command whose reply the proxy holds.
		cmd   string
		write func(e *r1Env) error
		// cents, found: the state the write leaves.
		cents int
		found bool
		// during runs while the write is held, before the near cache is read.
		during func(t *testing.T, e *r1Env)
	}{
		{name: "SetFromASecondStoreObjectOfTheScope", cmd: "set", cents: 2, found: true,
			write: func(e *r1Env) error {
				return e.root.MustScope("organization", "org_1").KV.Set(context.Background(), r1Key, r1Price{"sku_1", 2}, 0)
			}},
		{name: "SetWithTTL", cmd: "set", cents: 2, found: true,
			write: func(e *r1Env) error {
				return e.tenant.KV.Set(context.Background(), r1Key, r1Price{"sku_1", 2}, time.Hour)
			}},
		{name: "SetIfAbsent", absent: true, cmd: "set", cents: 2, found: true,
			write: func(e *r1Env) error {
				stored, err := e.tenant.KV.SetIfAbsent(context.Background(), r1Key, r1Price{"sku_1", 2}, 0, nil)
				if err == nil && !stored {
					err = errors.New("SetIfAbsent did not store")
				}
				return err
			}},
		{name: "Remove", cmd: "del", found: false,
			write: func(e *r1Env) error { return e.tenant.KV.Remove(context.Background(), r1Key) }},
		{name: "Expire", cmd: "pexpire", found: false,
			write: func(e *r1Env) error { return e.tenant.KV.Expire(context.Background(), r1Key, time.Millisecond) }},
		{name: "Touch", cmd: "pexpire", found: false,
			write: func(e *r1Env) error { return e.tenant.KV.Touch(context.Background(), r1Key, time.Millisecond) }},
		{name: "BatchSet", cmd: "exec", cents: 2, found: true,
			write: func(e *r1Env) error {
				return e.tenant.Batch.Set(context.Background(),
					client.BatchEntry{Key: "price:other", Value: r1Price{"other", 9}},
					client.BatchEntry{Key: r1Key, Value: r1Price{"sku_1", 2}})
			}},
		{name: "SetOfAHugeValue", cmd: "set", cents: 2, found: true,
			write: func(e *r1Env) error {
				return e.tenant.KV.Set(context.Background(), r1Key, map[string]any{"sku": "sku_1", "cents": 2, "pad": huge}, 0)
			}},
		{name: "SetWhileTheNearCachesConnectionIsKilled", cmd: "set", cents: 2, found: true,
			write: func(e *r1Env) error {
				return e.tenant.KV.Set(context.Background(), r1Key, r1Price{"sku_1", 2}, 0)
			},
			during: func(t *testing.T, e *r1Env) {
				if e.nearProxy.KillConnections() == 0 {
					t.Fatal("the near cache had no connection to kill")
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := r1Start(t, client.New(), nil)
			ctx := context.Background()
			if c.absent {
				if _, found := r1Read(t, e.near); found {
					t.Fatal("the key exists before the test wrote it")
				}
				r1Read(t, e.near)
			} else {
				if err := e.tenant.KV.Set(ctx, r1Key, r1Price{"sku_1", 1}, 0); err != nil {
					t.Fatal(err)
				}
				r1Warm(t, e.near, 1)
			}

			held, release := e.storeProxy.HoldReplyTo(c.cmd)
			wrote := make(chan error, 1)
			go func() { wrote <- c.write(e) }()
			select {
			case <-held:
			case err := <-wrote:
				t.Fatalf("the write returned before its reply was held: %v", err)
			case <-time.After(10 * time.Second):
				release()
				t.Fatalf("no %s reply was held", c.cmd)
			}
			r1AwaitRedis(t, e.plain, c.cents, c.found) // Redis ran the write: its reply is held
			if c.during != nil {
				c.during(t, e)
			}
			hits := e.near.Stats().Hits
			for i := range 2 {
				var p r1Price
				found, err := e.near.Get(ctx, r1Key, &p)
				if err != nil && c.during != nil && i == 0 {
					continue // the killed connection's read may fail; it must not be stale
				}
				if err != nil {
					t.Fatalf("near Get while the write is in flight: %v", err)
				}
				if found != c.found || (found && p.Cents != c.cents) {
					t.Fatalf("after Redis applied the write (a plain read sees (%d, %v)), the near cache returned (%d, %v); stats %+v",
						c.cents, c.found, p.Cents, found, e.near.Stats())
				}
			}
			if s := e.near.Stats(); s.Hits != hits {
				t.Fatalf("a read of a key being written was served from memory: stats %+v", s)
			}
			release()
			if err := <-wrote; err != nil {
				t.Fatalf("the write: %v", err)
			}
			if c.found {
				r1Warm(t, e.near, c.cents) // the write ended, acknowledged: cacheable again
			}
		})
	}
}

// A user middleware that panics after the write ran (a bug in user code, recovered by the
// caller): the store tells the near cache the write ended with STORE_OUTCOME_UNKNOWN. The near
// cache must return the written value, from Redis, until a later acknowledged write; a panic
// before anything was sent leaves the old value. OnEvent panics on every invalidation as well.
func TestR1PanickingMiddlewareMidWrite(t *testing.T) {
	type panicAt struct{}
	mw := func(next ops.Handler) ops.Handler {
		return func(ctx context.Context, op ops.Op) (ops.Result, error) {
			switch ctx.Value(panicAt{}) {
			case "before":
				panic("user middleware: before the write")
			case "after":
				res, err := next(ctx, op)
				_ = res
				panic(fmt.Sprintf("user middleware: after the write (err %v)", err))
			}
			return next(ctx, op)
		}
	}
	var callbackPanics atomic.Int64
	e := r1Start(t, client.New().Use(mw), func(string) Options {
		return Options{
			DrainInterval: 5 * time.Millisecond,
			OnEvent:       func(Event) { panic("OnEvent") },
			OnError: func(err error) {
				if ops.HasCode(err, ops.CodeCallbackPanic) {
					callbackPanics.Add(1)
				}
			},
		}
	})
	ctx := context.Background()
	if err := e.tenant.KV.Set(ctx, r1Key, r1Price{"sku_1", 1}, 0); err != nil {
		t.Fatal(err)
	}
	r1Warm(t, e.near, 1)
	write := func(where string, cents int) (recovered any) {
		defer func() { recovered = recover() }()
		_ = e.tenant.KV.Set(context.WithValue(ctx, panicAt{}, where), r1Key, r1Price{"sku_1", cents}, 0)
		return nil
	}

	if write("before", 5) == nil {
		t.Fatal("the middleware did not panic")
	}
	if got, _ := r1Redis(t, e.plain); got != 1 {
		t.Fatalf("a write whose middleware panicked before next ran: Redis holds %d", got)
	}
	if got, _ := r1Read(t, e.near); got != 1 {
		t.Fatalf("near cache after a write that was not sent: %d, want 1", got)
	}

	if write("after", 2) == nil {
		t.Fatal("the middleware did not panic")
	}
	if got, _ := r1Redis(t, e.plain); got != 2 {
		t.Fatalf("Redis holds %d after the write ran, want 2", got)
	}
	hits := e.near.Stats().Hits
	for range 3 {
		if got, _ := r1Read(t, e.near); got != 2 {
			t.Fatalf("after a write that ran (its middleware panicked afterwards) the near cache returned %d, want 2", got)
		}
	}
	if s := e.near.Stats(); s.Hits != hits {
		t.Fatalf("a key whose last write ended in a panic was served from memory: %+v", s)
	}
	if err := e.tenant.KV.Set(ctx, r1Key, r1Price{"sku_1", 3}, 0); err != nil {
		t.Fatal(err)
	}
	// Cacheable again. Redis's own invalidation of that write may still remove the first entry
	// (DrainInterval 5ms here): read until a hit.
	for i := 0; ; i++ {
		before := e.near.Stats().Hits
		if got, _ := r1Read(t, e.near); got != 3 {
			t.Fatalf("after an acknowledged write of 3: %d", got)
		}
		if e.near.Stats().Hits > before {
			break
		}
		if i == 50 {
			t.Fatal("the key was never cached again after an acknowledged write")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("OnEvent panics reported to OnError: %d", callbackPanics.Load())
}

// The near cache reads a store's kv keys: a store built on a go-redis client of another
// database than the near cache's (DB 0, the only one New accepts) gets a near cache that reads
// another keyspace. New accepts it without a word, and the near cache never returns the
// store's writes.
func TestR1StoreOnAnotherDatabaseIsRefusedOrReadThrough(t *testing.T) {
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, DB: 1, MaxRetries: -1, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = rdb.Close() })
	tenant := storetest.Connect(t, rdb, client.New().WithService("api")).MustScope("organization", "org_1")
	n, err := New(tenant, Options{Redis: &redis.Options{Addr: srv.Addr}})
	if err != nil {
		return // refused: fine
	}
	t.Cleanup(func() { _ = n.Close() })
	ctx := context.Background()
	if err := tenant.KV.Set(ctx, r1Key, r1Price{"sku_1", 1}, 0); err != nil {
		t.Fatal(err)
	}
	var p r1Price
	if found, err := tenant.KV.Get(ctx, r1Key, &p); err != nil || !found || p.Cents != 1 {
		t.Fatalf("KV.Get: %v %v %+v", found, err, p)
	}
	p = r1Price{}
	found, err := n.Get(ctx, r1Key, &p)
	if err != nil || !found || p.Cents != 1 {
		t.Fatalf("New accepted a store on DB 1 and its near cache reads DB 0: after KV.Set acknowledged, Near.Get returned found=%v err=%v %+v (KV.Get returns cents 1)", found, err, p)
	}
}

// A write whose ctx was done before the call sends nothing (the store returns STORE_CANCELED
// at once and Redis is unchanged). Nothing can be applied later, yet the near cache marks the
// key "outcome unknown" and never caches it again until another write of it is acknowledged.
// Not a violation of linearizability: a hit-ratio loss the doc does not mention (a key written
// once with a cancelled request context, then only read, is read from Redis for the process's
// life). The same holds for writes refused by an open breaker (STORE_CIRCUIT_OPEN).
func TestR1WriteThatSentNothingLeavesTheKeyCacheable(t *testing.T) {
	e := r1Start(t, client.New(), nil)
	ctx := context.Background()
	if err := e.tenant.KV.Set(ctx, r1Key, r1Price{"sku_1", 1}, 0); err != nil {
		t.Fatal(err)
	}
	r1Warm(t, e.near, 1)
	sets := e.storeProxy.Count("set")
	done, cancel := context.WithCancel(ctx)
	cancel()
	err := e.tenant.KV.Set(done, r1Key, r1Price{"sku_1", 2}, 0)
	if err == nil {
		t.Fatal("a write with a cancelled ctx succeeded")
	}
	if got := e.storeProxy.Count("set"); got != sets {
		t.Fatalf("the cancelled write was sent (%d SET → %d)", sets, got)
	}
	if got, _ := r1Redis(t, e.plain); got != 1 {
		t.Fatalf("Redis holds %d", got)
	}
	t.Logf("the cancelled write: %v", err)
	if got, _ := r1Read(t, e.near); got != 1 {
		t.Fatalf("near: %d, want 1", got)
	}
	before := e.near.Stats()
	if got, _ := r1Read(t, e.near); got != 1 {
		t.Fatalf("near: %d, want 1", got)
	}
	if after := e.near.Stats(); after.Hits != before.Hits+1 {
		t.Fatalf("after a write that provably sent nothing (%s), the key is no longer cached: stats %+v → %+v",
			ops.CodeOf(err), before, after)
	}
}

// A hit costs one atomic load of the write table (doc.go): it must not take the table's lock or
// send anything. The test holds the lock and reads a cached key.
func TestR1HitTakesNoLockOfTheWriteTable(t *testing.T) {
	e := r1Start(t, client.New(), nil)
	n := e.near
	ctx := context.Background()
	if err := e.tenant.KV.Set(ctx, r1Key, r1Price{"sku_1", 1}, 0); err != nil {
		t.Fatal(err)
	}
	r1Warm(t, n, 1)
	n.cache.writes.mu.Lock()
	got := make(chan int, 1)
	go func() {
		var p r1Price
		_, _ = n.Get(ctx, r1Key, &p)
		got <- p.Cents
	}()
	select {
	case c := <-got:
		n.cache.writes.mu.Unlock()
		if c != 1 {
			t.Fatalf("hit returned %d", c)
		}
	case <-time.After(2 * time.Second):
		n.cache.writes.mu.Unlock()
		<-got
		t.Fatal("a hit waited for the write table's lock")
	}
}

// After a restart without persistence, the near cache's entries go with their connections: a
// read made once the loss was noticed (DrainInterval 5ms on an idle connection) returns what
// Redis holds (nothing), and a write of the store made at once after the restart is read back.
func TestR1RestartWithoutPersistence(t *testing.T) {
	e := r1Start(t, client.New(), func(string) Options { return Options{DrainInterval: 5 * time.Millisecond} })
	ctx := context.Background()
	if err := e.tenant.KV.Set(ctx, r1Key, r1Price{"sku_1", 1}, 0); err != nil {
		t.Fatal(err)
	}
	r1Warm(t, e.near, 1)
	e.srv.RestartEmpty()
	// A write of the store right after the restart (the store's connections are dead: retry).
	var err error
	for range 50 {
		if err = e.tenant.KV.Set(ctx, r1Key, r1Price{"sku_1", 2}, 0); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		var p r1Price
		found, err := e.near.Get(ctx, r1Key, &p)
		if err == nil {
			if !found || p.Cents != 2 {
				t.Fatalf("after the restart and an acknowledged write of 2: found %v cents %d", found, p.Cents)
			}
			break
		}
		if i > 50 {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	r1Warm(t, e.near, 2)
	e.srv.RestartEmpty()
	time.Sleep(200 * time.Millisecond) // far past DrainInterval
	for i := 0; ; i++ {
		var p r1Price
		found, err := e.near.Get(ctx, r1Key, &p)
		if err == nil {
			if found {
				t.Fatalf("200ms after a restart that lost the key, the near cache returned cents %d (stats %+v)", p.Cents, e.near.Stats())
			}
			break
		}
		if i > 50 {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Writers (one per key: KV.Set, a second store object of the scope, Batch.Set, Set with a TTL,
// in turn, each with a 300ms deadline) and readers run at once through one near cache with a
// small MaxEntries (eviction) and several connections, while the store's connections and the
// near cache's are killed, and replies of both are held for a moment. Linearizable means, for
// each key: a read that starts after a write was acknowledged, or after another read returned
// a value, returns that value or a newer one. OnEvent panics throughout.
func TestR1ConcurrentWritersReadersAndFaultsAreMonotonic(t *testing.T) {
	keys := []string{"price:a", "price:b", "price:c"}
	e := r1Start(t, client.New(), func(addr string) Options {
		return Options{
			Redis:         &redis.Options{Addr: addr, PoolSize: 4},
			MaxEntries:    2,
			DrainInterval: 5 * time.Millisecond,
			OnEvent:       func(Event) { panic("OnEvent") },
			OnError:       func(error) {},
		}
	})
	n := e.near
	sibling := e.root.MustScope("organization", "org_1")
	ctx := context.Background()
	for _, k := range keys {
		if err := e.tenant.KV.Set(ctx, k, r1Price{k, 0}, 0); err != nil {
			t.Fatal(err)
		}
	}
	floors := make([]atomic.Int64, len(keys))
	raise := func(i int, v int64) {
		for {
			cur := floors[i].Load()
			if v <= cur || floors[i].CompareAndSwap(cur, v) {
				return
			}
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var stale []string
	var reads, readErrs, writes, writeErrs atomic.Int64

	for ki, k := range keys {
		wg.Go(func() {
			for i := 1; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
				var err error
				v := r1Price{k, i}
				switch i % 4 {
				case 0:
					err = e.tenant.KV.Set(wctx, k, v, 0)
				case 1:
					err = sibling.KV.Set(wctx, k, v, 0)
				case 2:
					err = e.tenant.Batch.Set(wctx, client.BatchEntry{Key: k, Value: v}, client.BatchEntry{Key: k + ":side", Value: v})
				case 3:
					err = e.tenant.KV.Set(wctx, k, v, time.Hour)
				}
				cancel()
				writes.Add(1)
				if err != nil {
					writeErrs.Add(1)
					time.Sleep(5 * time.Millisecond)
					continue
				}
				raise(ki, int64(i))
				time.Sleep(time.Duration(rand.IntN(20)) * time.Millisecond) // let reads hit between writes
			}
		})
	}
	for range 6 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(rand.Uint64(), 1))
			for {
				select {
				case <-stop:
					return
				default:
				}
				ki := r.IntN(len(keys))
				floor := floors[ki].Load()
				var p r1Price
				rctx, cancel := context.WithTimeout(ctx, time.Second)
				found, err := n.Get(rctx, keys[ki], &p)
				cancel()
				if err != nil {
					readErrs.Add(1)
					continue
				}
				reads.Add(1)
				if !found {
					mu.Lock()
					stale = append(stale, fmt.Sprintf("%s: not found (floor %d)", keys[ki], floor))
					mu.Unlock()
					continue
				}
				if int64(p.Cents) < floor {
					mu.Lock()
					stale = append(stale, fmt.Sprintf("%s: read %d after %d was acknowledged or read (stats %+v)", keys[ki], p.Cents, floor, n.Stats()))
					mu.Unlock()
				}
				raise(ki, int64(p.Cents))
			}
		})
	}
	wg.Go(func() { // faults
		r := rand.New(rand.NewPCG(rand.Uint64(), 2))
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(20+r.IntN(80)) * time.Millisecond):
			}
			switch r.IntN(5) {
			case 0:
				e.storeProxy.KillConnections()
			case 1:
				e.nearProxy.KillConnections()
			case 2, 3:
				proxy, cmd := e.storeProxy, []string{"set", "exec"}[r.IntN(2)]
				if r.IntN(2) == 0 {
					proxy, cmd = e.nearProxy, "get"
				}
				held, release := proxy.HoldReplyTo(cmd)
				select {
				case <-held:
					time.Sleep(time.Duration(r.IntN(40)) * time.Millisecond)
				case <-time.After(100 * time.Millisecond):
				case <-stop:
				}
				release()
			}
		}
	})
	time.Sleep(4 * time.Second)
	close(stop)
	wg.Wait()
	t.Logf("%d writes (%d failed), %d reads (%d failed), stats %+v", writes.Load(), writeErrs.Load(), reads.Load(), readErrs.Load(), n.Stats())
	if len(stale) > 0 {
		t.Fatalf("%d reads older than an acknowledged write or an earlier read, e.g. %s", len(stale), strings.Join(stale[:min(5, len(stale))], "; "))
	}
	if reads.Load() == 0 || writes.Load()-writeErrs.Load() == 0 {
		t.Fatal("nothing was checked")
	}
}

// A write whose caller left while it was queued behind another batch of the store's pipeline
// (its outcome unknown to the near cache) must never be applied after a later write of the same
// key was acknowledged: the near cache clears the key's unknown mark on that acknowledgement and
// caches it again. The executor drops a queued command whose caller left; if it sent it
// instead, Redis would hold the older value while the near cache serves the newer one.
func TestR1QueuedWriteWhoseCallerLeftIsNotAppliedAfterALaterWrite(t *testing.T) {
	e := r1Start(t, client.New(), nil)
	ctx := context.Background()
	if err := e.tenant.KV.Set(ctx, r1Key, r1Price{"sku_1", 1}, 0); err != nil {
		t.Fatal(err)
	}
	r1Warm(t, e.near, 1)

	// Two writes of other keys held at the proxy: the first goes direct, the second through the
	// pipeline's lane, which then holds everything queued behind it.
	var bg sync.WaitGroup
	releases := make([]func(), 0, 2)
	for i := range 2 {
		held, release := e.storeProxy.HoldReplyTo("set")
		releases = append(releases, release)
		bg.Go(func() { _ = e.tenant.KV.Set(ctx, "price:other"+strconv.Itoa(i), r1Price{"o", i}, 0) })
		select {
		case <-held:
		case <-time.After(5 * time.Second):
			t.Fatal("no SET held")
		}
	}
	defer func() {
		for _, r := range releases {
			r()
		}
		bg.Wait()
	}()

	sets := e.storeProxy.Count("set")
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	err := e.tenant.KV.Set(short, r1Key, r1Price{"sku_1", 2}, 0) // queued behind the lane's batch
	cancel()
	if !ops.HasCode(err, ops.CodeTimeout) {
		t.Fatalf("the queued write: %v, want STORE_TIMEOUT", err)
	}
	// A later write through Batch.Set (MULTI/EXEC on the client, not in the lane) is acknowledged.
	if err := e.tenant.Batch.Set(ctx, client.BatchEntry{Key: r1Key, Value: r1Price{"sku_1", 3}}); err != nil {
		t.Fatal(err)
	}
	// (H1b) The queued write could still be sent as far as the near cache knows: the key stays
	// uncached until the pipeline drops it. (R1 had r1Warm(3) here: a hit while it was queued.)
	r1ReadUncached(t, e.near, 3, "while a write of it whose caller left was still queued")
	for _, r := range releases {
		r()
	}
	bg.Wait()
	releases = nil
	r1AwaitSettled(t, e.near) // dropped: it ends as "not sent", leaving no unknown mark
	if n := e.storeProxy.Count("set") - sets; n != 0 {
		t.Errorf("the write whose caller left while it was queued was sent (%d SET)", n)
	}
	if got, _ := r1Redis(t, e.plain); got != 3 {
		t.Fatalf("the write whose caller left was applied after a later acknowledged write: Redis holds %d, the near cache serves %d", got, func() int { c, _ := r1Read(t, e.near); return c }())
	}
	r1Warm(t, e.near, 3) // and the key is cached again
}

// G14's backstop: an entry whose invalidation cannot arrive (the near cache's connection is
// frozen: silent, not closed) is not served past MaxStaleness after it was fetched; reads then
// fail or return the new value.
func TestR1FrozenTrackingConnectionIsBoundedByMaxStaleness(t *testing.T) {
	const maxStaleness = 300 * time.Millisecond
	e := r1Start(t, client.New(), func(string) Options {
		return Options{MaxStaleness: maxStaleness, DrainInterval: 5 * time.Millisecond}
	})
	ctx := context.Background()
	if err := e.tenant.KV.Set(ctx, r1Key, r1Price{"sku_1", 1}, 0); err != nil {
		t.Fatal(err)
	}
	fetched := time.Now()
	r1Warm(t, e.near, 1)
	e.nearProxy.Freeze()
	if err := e.plain.Set(ctx, r1Full, `{"sku":"sku_1","cents":2}`, 0).Err(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(fetched.Add(maxStaleness + 50*time.Millisecond)))
	for i := 0; i < 5; i++ {
		var p r1Price
		rctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		found, err := e.near.Get(rctx, r1Key, &p)
		cancel()
		if err == nil && (!found || p.Cents != 2) {
			t.Fatalf("read %d, past MaxStaleness after the fetch, returned (%d, %v), want 2 or an error", i, p.Cents, found)
		}
	}
}

// A write through another Build of the same service on the same Redis is another client's
// (G14): the near cache is not told of it, and serves the old value until Redis's invalidation
// is applied. Here the near cache's one connection is idle and never swept (DrainInterval 1h),
// so the invalidation waits on it: the old value is served after the write was acknowledged,
// and the first use of the connection (a miss of another key) applies it.
func TestR1WriteOfAnotherBuildIsAnotherClients(t *testing.T) {
	e := r1Start(t, client.New(), nil)
	ctx := context.Background()
	if err := e.tenant.KV.Set(ctx, r1Key, r1Price{"sku_1", 1}, 0); err != nil {
		t.Fatal(err)
	}
	r1Warm(t, e.near, 1)
	other := storetest.Connect(t, e.srv.Client(t), client.New().WithService("api")).MustScope("organization", "org_1")
	if err := other.KV.Set(ctx, r1Key, r1Price{"sku_1", 2}, 0); err != nil {
		t.Fatal(err)
	}
	if got, _ := r1Read(t, e.near); got != 1 {
		t.Fatalf("right after another Build's write the near cache returned %d: it was told of the write (the doc says it is not)", got)
	}
	var p r1Price
	if _, err := e.near.Get(ctx, "price:unrelated", &p); err != nil { // uses the connection
		t.Fatal(err)
	}
	if got, _ := r1Read(t, e.near); got != 2 {
		t.Fatalf("after the invalidation was read on the connection: %d, want 2", got)
	}
}

// The rule that clears a key's "outcome unknown" mark (a later write of it acknowledged: "by the
// time Redis answered that write it has run the lost one, which reached it earlier") assumes
// the store never sends a write after its caller was told it failed, except for bytes already
// in the network. The store's pipeline does: its drop hook (executor dropHook) checks for
// abandoned commands before go-redis takes a connection, so a write that passed it and then
// waits for a new connection to be dialled is sent when the dial completes, after its caller got
// STORE_TIMEOUT and after a later write was acknowledged. Redis then holds the older value while
// the near cache serves the newer one from memory (until Redis's invalidation is applied: here
// never, the connection is idle and DrainInterval is 1h; at default settings, for the G14
// window) — a read returned 2, then the near cache returned 3.
func TestR1WriteSentAfterItsCallerLeftIsNotMaskedByALaterWrite(t *testing.T) {
	t.Run("LaterWriteIsBatchSet", func(t *testing.T) { r1LateSend(t, false) })
	t.Run("LaterWriteIsKVSetOnTheIdleConnection", func(t *testing.T) { r1LateSend(t, true) })
}

// r1LateSend runs the interleaving; the later write is a KV.Set sent once the other write
// returned (so it goes direct, on the connection that write frees) when kvSet, else a Batch.Set.
func r1LateSend(t *testing.T, kvSet bool) {
	srv := redistest.Start(t)
	proxy := faultproxy.Start(t, srv.Addr)
	g := &faultproxy.DialGate{}
	rdb := redis.NewClient(&redis.Options{Addr: proxy.Addr, MaxRetries: -1, ContextTimeoutEnabled: true, Dialer: g.Dial})
	t.Cleanup(func() { _ = rdb.Close() })
	tenant := storetest.Connect(t, rdb, client.New().WithService("api")).MustScope("organization", "org_1")
	n, err := New(tenant, Options{Redis: &redis.Options{Addr: srv.Addr, PoolSize: 1}, DrainInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	plain := srv.Client(t)
	ctx := context.Background()
	if err := tenant.KV.Set(ctx, r1Key, r1Price{"sku_1", 1}, 0); err != nil { // dials the one connection
		t.Fatal(err)
	}
	r1Warm(t, n, 1)

	// Another write holds the only connection (its reply held at the proxy), so the next op is
	// pipelined (one op in flight) and needs a new connection.
	held, releaseOther := proxy.HoldReplyTo("set")
	other := make(chan error, 1)
	go func() { other <- tenant.KV.Set(ctx, "price:other", r1Price{"other", 1}, 0) }()
	<-held
	otherDone := false
	defer func() {
		releaseOther()
		if !otherDone {
			<-other
		}
	}()

	dialing, releaseDial := g.Arm()
	defer releaseDial() // a failure before the dial's release: let the lane go, so Close returns
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	err = tenant.KV.Set(short, r1Key, r1Price{"sku_1", 2}, 0)
	cancel()
	if !ops.HasCode(err, ops.CodeTimeout) {
		t.Fatalf("the write held in its dial: %v, want STORE_TIMEOUT", err)
	}
	select {
	case <-dialing:
	default:
		t.Fatal("the write did not wait for a dial: the interleaving was not reached")
	}
	// A later write of the key, acknowledged.
	if kvSet {
		releaseOther()
		if err := <-other; err != nil {
			t.Fatal(err)
		}
		otherDone = true
		if err := tenant.KV.Set(ctx, r1Key, r1Price{"sku_1", 3}, 0); err != nil {
			t.Fatal(err)
		}
	} else if err := tenant.Batch.Set(ctx, client.BatchEntry{Key: r1Key, Value: r1Price{"sku_1", 3}}); err != nil {
		t.Fatal(err) // Batch.Set runs on the client: a connection of its own
	}
	// (H1b) The timed-out write is still held by the store (waiting for its connection), so the
	// key stays uncached until it is settled. (R1 had r1Warm(3) here: a hit meanwhile.)
	r1ReadUncached(t, n, 3, "while a write of it the store still held could be sent")

	releaseDial() // the dial completes
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if c, _ := r1Redis(t, plain); c == 2 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	redisHolds, _ := r1Redis(t, plain)
	near, _ := r1Read(t, n)
	t.Logf("Redis holds %d, the near cache returns %d", redisHolds, near)
	if redisHolds == 2 && near != 2 {
		t.Fatalf("the write whose caller got STORE_TIMEOUT was sent after a later write was acknowledged: a plain read returned 2, then the near cache returned %d (stats %+v)", near, n.Stats())
	}
	// (H1b) Once written and acknowledged, the late write ends as applied: the key is cached
	// again, with its value.
	r1AwaitSettled(t, n)
	r1Warm(t, n, redisHolds)
}
