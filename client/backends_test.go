package client_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/streams"
)

// backend is one Redis topology the store must work on.
type backend struct {
	name  string
	start func(t *testing.T) redis.UniversalClient
}

// backends is the table every feature runs on: one node, a 6-node Redis Cluster (3 primaries,
// 3 replicas) and a Sentinel-managed primary with a replica and three sentinels. Each start
// returns a client with go-redis's retries off, as the store requires.
var backends = []backend{
	{"SingleNode", func(t *testing.T) redis.UniversalClient { return redistest.Start(t).Client(t) }},
	{"Cluster", func(t *testing.T) redis.UniversalClient {
		return redistest.StartClusterWith(t, redistest.ClusterOptions{ReplicasPerPrimary: 1}).Client(t)
	}},
	{"Sentinel", func(t *testing.T) redis.UniversalClient {
		return redistest.StartSentinel(t, redistest.SentinelOptions{}).Client(t)
	}},
}

// TestBackends runs the store suite (KV, counters, claims, leases, batch, scan, events,
// streams, consume loop) on every backend of the table, the backends in parallel. Keys are the
// single-node layout byte for byte on each.
func TestBackends(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			rdb := b.start(t)
			st, err := client.New().WithService("api").WithAdapter(client.Redis(rdb)).Build()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			env := suiteEnv{st: st, raw: rdb}
			t.Run("KV", env.kv)
			t.Run("Counters", env.counters)
			t.Run("Claims", env.claims)
			t.Run("Leases", func(t *testing.T) { runLeaseSuite(t, newLeaseEnv(t, rdb)) })
			t.Run("Batch", env.batch)
			t.Run("Scan", env.scan)
			t.Run("Events", env.events)
			t.Run("Streams", env.streams)
			t.Run("ConsumeLoop", env.consume)
		})
	}
}

type suiteEnv struct {
	st  *client.Store
	raw redis.UniversalClient
}

// rawIs checks the bytes Redis holds under a full key.
func (e suiteEnv) rawIs(t *testing.T, key, want string) {
	t.Helper()
	got, err := e.raw.Get(context.Background(), key).Result()
	if err != nil || got != want {
		t.Fatalf("raw %s = %q %v, want %q", key, got, err, want)
	}
}

func (e suiteEnv) kv(t *testing.T) {
	ctx := context.Background()
	must(t, e.st.KV.Set(ctx, "user:1", map[string]int{"a": 1}, 0))
	e.rawIs(t, "igniter:store:api:kv:user:1", `{"a":1}`)
	var v map[string]int
	if ok, err := e.st.KV.Get(ctx, "user:1", &v); err != nil || !ok || v["a"] != 1 {
		t.Fatalf("get: %v %v %v", v, ok, err)
	}
	org, err := e.st.Scope("organization", "org_1")
	must(t, err)
	must(t, org.KV.Set(ctx, "k", "v", time.Minute))
	e.rawIs(t, "igniter:store:api:organization:org_1:kv:k", `"v"`)
	if ttl := e.raw.TTL(ctx, "igniter:store:api:organization:org_1:kv:k").Val(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("ttl %v", ttl)
	}
	must(t, org.KV.Expire(ctx, "k", 0))
	if ttl := e.raw.TTL(ctx, "igniter:store:api:organization:org_1:kv:k").Val(); ttl != -1 {
		t.Fatalf("ttl after Expire(0) = %v, want none", ttl)
	}
	must(t, org.KV.Remove(ctx, "k"))
	if ok, err := org.KV.Exists(ctx, "k"); err != nil || ok {
		t.Fatalf("exists after remove: %v %v", ok, err)
	}
}

func (e suiteEnv) counters(t *testing.T) {
	ctx := context.Background()
	for i, step := range []func() (int64, error){
		func() (int64, error) { return e.st.Counter.Increment(ctx, "hits") },
		func() (int64, error) { return e.st.Counter.IncrementBy(ctx, "hits", 5) },
		func() (int64, error) { return e.st.Counter.Decrement(ctx, "hits") },
	} {
		want := []int64{1, 6, 5}[i]
		if n, err := step(); err != nil || n != want {
			t.Fatalf("step %d: %d %v, want %d", i, n, err, want)
		}
	}
	e.rawIs(t, "igniter:store:api:counter:hits", "5")
}

func (e suiteEnv) claims(t *testing.T) {
	ctx := context.Background()
	if ok, err := e.st.Claim.Once(ctx, "job", "w1", time.Minute); err != nil || !ok {
		t.Fatalf("first claim: %v %v", ok, err)
	}
	if ok, err := e.st.Claim.Once(ctx, "job", "w2", time.Minute); err != nil || ok {
		t.Fatalf("second claim: %v %v", ok, err)
	}
	e.rawIs(t, "igniter:store:api:claim:job", `"w1"`)
	if ok, err := e.st.Claim.Release(ctx, "job", "w1"); err != nil || !ok {
		t.Fatalf("release: %v %v", ok, err)
	}
}

// batch writes and reads 64 keys, which spread over every primary of a cluster: values come back
// in input order, with TTLs where asked.
func (e suiteEnv) batch(t *testing.T) {
	ctx := context.Background()
	var entries []client.BatchEntry
	var keys []string
	for i := range 64 {
		k := fmt.Sprintf("b:%d", i)
		keys = append(keys, k)
		ent := client.BatchEntry{Key: k, Value: i}
		if i%3 == 0 {
			ent.TTL = time.Minute
		}
		entries = append(entries, ent)
	}
	must(t, e.st.Batch.Set(ctx, entries...))
	items, err := client.BatchGetAs[int](ctx, e.st.Batch, append(keys, "b:missing", "b:7")...)
	must(t, err)
	if len(items) != 66 {
		t.Fatalf("%d items", len(items))
	}
	for i, it := range items[:64] {
		if it.Key != keys[i] || !it.Found || it.Value != i {
			t.Fatalf("item %d = %+v", i, it)
		}
	}
	if items[64].Found || !items[65].Found || items[65].Value != 7 {
		t.Fatalf("tail items %+v %+v", items[64], items[65])
	}
	if ttl := e.raw.TTL(ctx, "igniter:store:api:kv:b:3").Val(); ttl <= 0 {
		t.Fatalf("b:3 ttl %v", ttl)
	}
	if ttl := e.raw.TTL(ctx, "igniter:store:api:kv:b:4").Val(); ttl != -1 {
		t.Fatalf("b:4 ttl %v", ttl)
	}
}

// scan pages through 300 keys with a small COUNT: every key once, none of another tenant.
func (e suiteEnv) scan(t *testing.T) {
	ctx := context.Background()
	other, err := e.st.Scope("organization", "other")
	must(t, err)
	must(t, other.KV.Set(ctx, "s:x", 1, 0))
	var entries []client.BatchEntry
	want := map[string]bool{}
	for i := range 300 {
		k := fmt.Sprintf("s:%d", i)
		entries = append(entries, client.BatchEntry{Key: k, Value: i})
		want[k] = true
	}
	must(t, e.st.Batch.Set(ctx, entries...))
	got := map[string]int{}
	opts := client.ScanOptions{Count: 25}
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatal("scan does not end")
		}
		page, err := e.st.Dev.Scan(ctx, "s:*", opts)
		must(t, err)
		for _, k := range page.Keys {
			got[k]++
		}
		if page.Cursor == "0" {
			break
		}
		opts.Cursor = page.Cursor
	}
	if len(got) != len(want) {
		t.Fatalf("scan found %d distinct keys, want %d", len(got), len(want))
	}
	for k := range got {
		if !want[k] {
			t.Fatalf("scan returned %q", k)
		}
	}
	var keys []string
	for k, err := range e.st.Dev.Keys(ctx, "s:*", 50) {
		must(t, err)
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if len(keys) != 300 || len(slices.Compact(slices.Clone(keys))) != 300 {
		t.Fatalf("Dev.Keys: %d keys", len(keys))
	}
}

// events: an exact and a pattern subscriber receive every publish, whatever node it lands on.
func (e suiteEnv) events(t *testing.T) {
	ctx := context.Background()
	pattern := newInbox()
	_, err := e.st.Events.Subscribe(ctx, "order:*", pattern.handler)
	must(t, err)
	const n = 12
	boxes := make([]*inbox, n)
	for i := range boxes {
		boxes[i] = newInbox()
		_, err := e.st.Events.Subscribe(ctx, fmt.Sprintf("order:%d", i), boxes[i].handler)
		must(t, err)
	}
	for i := range n {
		must(t, e.st.Events.Publish(ctx, fmt.Sprintf("order:%d", i), i))
	}
	seen := map[string]bool{}
	for i, box := range boxes {
		if m := box.next(t); string(m.Data) != fmt.Sprint(i) {
			t.Fatalf("order:%d received %s", i, m.Data)
		}
		seen[pattern.next(t).Event] = true
	}
	if len(seen) != n {
		t.Fatalf("pattern saw %d distinct events, want %d", len(seen), n)
	}
}

func (e suiteEnv) streams(t *testing.T) {
	ctx := context.Background()
	var ids []string
	for i := range 3 {
		id, err := e.st.Streams.Append(ctx, "audit", i, streams.AppendOptions{})
		must(t, err)
		ids = append(ids, id)
	}
	if n := e.raw.XLen(ctx, "igniter:store:api:streams:audit").Val(); n != 3 {
		t.Fatalf("XLEN %d", n)
	}
	got, err := e.st.Streams.Range(ctx, "audit", streams.RangeOptions{})
	must(t, err)
	if len(got) != 3 || got[0].ID != ids[0] || string(got[2].Message) != "2" {
		t.Fatalf("range %+v", got)
	}
	g := e.st.Streams.Group("g", "c1")
	must(t, g.Ensure(ctx, "audit", streams.EnsureOptions{}))
	read, err := g.Read(ctx, "audit", streams.ReadOptions{Block: time.Second})
	must(t, err)
	if len(read) != 3 {
		t.Fatalf("read %d entries", len(read))
	}
	var readIDs []string
	for _, r := range read {
		readIDs = append(readIDs, r.ID)
	}
	if n, err := g.Ack(ctx, "audit", readIDs...); err != nil || n != 3 {
		t.Fatalf("ack %d %v", n, err)
	}
}

// consume: a consume loop handles every entry of a stream once and leaves nothing pending.
func (e suiteEnv) consume(t *testing.T) {
	ctx := context.Background()
	const total = 40
	g := e.st.Streams.Group("workers", "w1")
	must(t, g.Ensure(ctx, "jobs", streams.EnsureOptions{}))
	for i := range total {
		_, err := e.st.Streams.Append(ctx, "jobs", i, streams.AppendOptions{})
		must(t, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	seen := map[int]int{}
	all := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- streams.ConsumeAs(cctx, g, "jobs", func(_ context.Context, m streams.Message[int]) error {
			mu.Lock()
			defer mu.Unlock()
			seen[m.Message]++
			if len(seen) == total {
				close(all)
			}
			return nil
		}, streams.ConsumeOptions{Concurrency: 4, Block: 50 * time.Millisecond, LagInterval: -1})
	}()
	select {
	case <-all:
	case <-time.After(30 * time.Second): // a guard, not synchronisation
		t.Fatal("consume loop did not handle every entry")
	}
	cancel()
	must(t, <-done)
	for i, n := range seen {
		if n != 1 {
			t.Fatalf("entry %d handled %d times", i, n)
		}
	}
	if lag, err := g.Lag(ctx, "jobs"); err != nil || lag.Pending != 0 {
		t.Fatalf("lag %+v %v", lag, err)
	}
}
