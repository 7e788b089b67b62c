package nearcache_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/nearcache"
	"github.com/igniter-go/store/storetest"
)

type Price struct {
	SKU   string `json:"sku"`
	Cents int    `json:"cents"`
}

const fullKey = "igniter:store:api:organization:org_1:kv:price:sku_1"

// setup returns a scoped store on a real redis-server, a near cache on it whose events go to the
// returned channel, and a plain go-redis client (another service).
func setup(t *testing.T) (*client.Store, *nearcache.Near, chan nearcache.Event, *redis.Client) {
	t.Helper()
	return setupWith(t, client.New())
}

// setupWith is setup with the store built from b (its service is set here).
func setupWith(t *testing.T, b *client.Builder) (*client.Store, *nearcache.Near, chan nearcache.Event, *redis.Client) {
	t.Helper()
	srv := redistest.Start(t)
	st := storetest.Connect(t, srv.Client(t), b.WithService("api"))
	tenant := st.MustScope("organization", "org_1")
	events := make(chan nearcache.Event, 256)
	nc, err := nearcache.New(tenant, nearcache.Options{
		Redis:   &redis.Options{Addr: srv.Addr},
		OnEvent: func(e nearcache.Event) { events <- e },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	return tenant, nc, events, srv.Client(t)
}

// await drains events until one of kind that removed an entry arrives.
func await(t *testing.T, events chan nearcache.Event, kind nearcache.EventKind) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e := <-events:
			if e.Kind == kind && e.Removed > 0 {
				return
			}
		case <-timeout:
			t.Fatalf("no event of kind %d within 10s", kind)
		}
	}
}

// warm reads key until it is cached: the first read may fetch, the second must be a hit.
func warm(t *testing.T, nc *nearcache.Near, want int) {
	t.Helper()
	if got := read(t, nc); got != want {
		t.Fatalf("near Get: cents %d, want %d", got, want)
	}
	before := nc.Stats()
	if got := read(t, nc); got != want {
		t.Fatalf("near Get: cents %d, want %d", got, want)
	}
	if after := nc.Stats(); after.Hits != before.Hits+1 || after.Misses != before.Misses {
		t.Fatalf("the second read was not a hit: stats %+v → %+v", before, after)
	}
}

func read(t *testing.T, nc *nearcache.Near) int {
	t.Helper()
	var p Price
	if _, err := nc.Get(context.Background(), "price:sku_1", &p); err != nil {
		t.Fatal(err)
	}
	return p.Cents
}

func TestWritesFromAnyClientInvalidate(t *testing.T) {
	st, nc, events, plain := setup(t)
	ctx := context.Background()
	if err := st.KV.Set(ctx, "price:sku_1", Price{"sku_1", 1}, 0); err != nil {
		t.Fatal(err)
	}
	warm(t, nc, 1)

	// Another Go service writes with a plain go-redis client.
	if err := plain.Set(ctx, fullKey, `{"sku":"sku_1","cents":2}`, 0).Err(); err != nil {
		t.Fatal(err)
	}
	await(t, events, nearcache.Invalidated)
	if got := read(t, nc); got != 2 {
		t.Fatalf("after a go-redis write: cents %d, want 2", got)
	}

	// The Node original writes: SET key <json> EX <seconds>, byte for byte.
	warm(t, nc, 2)
	if err := plain.Do(ctx, "SET", fullKey, `{"sku":"sku_1","cents":3}`, "EX", "300").Err(); err != nil {
		t.Fatal(err)
	}
	await(t, events, nearcache.Invalidated)
	if got := read(t, nc); got != 3 {
		t.Fatalf("after the Node-shaped SET: cents %d, want 3", got)
	}

	// This store's own writes drop the entry before they return: no invalidation to wait for.
	warm(t, nc, 3)
	if err := st.KV.Set(ctx, "price:sku_1", Price{"sku_1", 4}, 0); err != nil {
		t.Fatal(err)
	}
	if got := read(t, nc); got != 4 {
		t.Fatalf("right after the store's own write: cents %d, want 4", got)
	}
	if s := nc.Stats(); s.Invalidations < 2 {
		t.Fatalf("stats %+v: want ≥ 2 invalidations", s)
	}
}

// The near cache's tracking connections are killed; a write that follows reaches no
// invalidation to A, yet A never serves the old value: the lost connection's entries go.
func TestKilledInvalidationConnectionLeavesNothingStale(t *testing.T) {
	st, nc, events, plain := setup(t)
	ctx := context.Background()
	if err := st.KV.Set(ctx, "price:sku_1", Price{"sku_1", 1}, 0); err != nil {
		t.Fatal(err)
	}
	warm(t, nc, 1)
	if killTracking(t, plain) == 0 {
		t.Fatal("no tracking connection in CLIENT LIST")
	}
	if err := plain.Set(ctx, fullKey, `{"sku":"sku_1","cents":9}`, 0).Err(); err != nil {
		t.Fatal(err)
	}
	await(t, events, nearcache.ConnectionLost)
	if got := read(t, nc); got != 9 {
		t.Fatalf("after CLIENT KILL and a write: cents %d, want 9 (the old value was served)", got)
	}
	if s := nc.Stats(); s.ConnectionLosses == 0 || s.Evicted == 0 {
		t.Fatalf("stats %+v: want a connection loss with evictions", s)
	}
	// Caching resumes on a new tracked connection.
	warm(t, nc, 9)
}

// killTracking kills every connection with CLIENT TRACKING on (the near cache's) and returns
// how many it killed.
func killTracking(t *testing.T, plain *redis.Client) int {
	t.Helper()
	ctx := context.Background()
	list, err := plain.ClientList(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	killed := 0
	for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
		var id, flags string
		for _, f := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(f, "id="); ok {
				id = v
			}
			if v, ok := strings.CutPrefix(f, "flags="); ok {
				flags = v
			}
		}
		if strings.Contains(flags, "t") { // CLIENT TRACKING on: the near cache's connections
			if _, err := strconv.Atoi(id); err != nil {
				t.Fatalf("bad CLIENT LIST line %q", line)
			}
			if err := plain.Do(ctx, "CLIENT", "KILL", "ID", id).Err(); err != nil {
				t.Fatal(err)
			}
			killed++
		}
	}
	return killed
}
