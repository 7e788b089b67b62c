package client_test

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/faultproxy"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/streams"
)

// proxiedCluster is a 3-primary cluster whose every node is reached through a fault proxy.
type proxiedCluster struct {
	c       *redistest.Cluster
	proxies []*faultproxy.Proxy
	via     map[string]string    // node address → its proxy's address
	raw     *redis.ClusterClient // direct, for checks
}

func startProxiedCluster(t *testing.T) *proxiedCluster {
	t.Helper()
	c := redistest.StartCluster(t, 3)
	pc := &proxiedCluster{c: c, raw: c.Client(t)}
	via := map[string]string{}
	for _, addr := range c.Addrs {
		p := faultproxy.Start(t, addr)
		pc.proxies = append(pc.proxies, p)
		via[addr] = p.Addr
	}
	pc.via = via
	return pc
}

// client returns a new cluster client whose every connection goes through the proxies.
func (pc *proxiedCluster) client(t *testing.T) *redis.ClusterClient {
	var d net.Dialer
	rdb := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs: pc.c.Addrs, MaxRetries: -1, ContextTimeoutEnabled: true,
		// CLUSTER SLOTS names the real nodes: every dial goes to the node's proxy instead.
		Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if p, ok := pc.via[addr]; ok {
				addr = p
			}
			return d.DialContext(ctx, network, addr)
		},
	})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// lostEnv is a store's client whose data connections go through fault proxies, a direct client
// for checks, and the code a caller must see for a lost reply.
type lostEnv struct {
	service string
	rdb     redis.UniversalClient
	raw     redis.UniversalClient
	proxies []*faultproxy.Proxy
	code    ops.Code
}

// dropNext arms every proxy to drop the reply to the next command named name, runs f, then
// disarms them and returns how many commands named name the proxies forwarded during f.
func (e lostEnv) dropNext(t *testing.T, name string, f func()) (sent int) {
	t.Helper()
	before := 0
	for _, p := range e.proxies {
		before += p.Count(name)
		p.DropReplyTo(name)
	}
	f()
	after := 0
	for _, p := range e.proxies {
		p.Disarm()
		after += p.Count(name)
	}
	return after - before
}

func (e lostEnv) wantLost(t *testing.T, what string, err error) {
	t.Helper()
	if ops.CodeOf(err) != e.code || !errors.Is(err, ops.ErrUnavailable) {
		t.Fatalf("%s with its reply lost: err = %v, want %s (unavailable)", what, err, e.code)
	}
}

// TestBackendsClusterLostReplyIsNotResent: on a Redis Cluster, the connection drops after an
// INCR, an XADD, a PUBLISH and a lease acquisition reach the node and before the reply comes
// back. go-redis's cluster loop would send each again (EOF is retryable there whatever
// MaxRetries says); every store command carries go-redis's no-retry marker, which stops that:
// each ran exactly once, and the caller gets STORE_OUTCOME_UNKNOWN.
//
// The marker is on the command, so it holds on a fresh client and on one used before the store
// was built alike: both cases run.
func TestBackendsClusterLostReplyIsNotResent(t *testing.T) {
	pc := startProxiedCluster(t)
	env := func(service string, rdb redis.UniversalClient) lostEnv {
		return lostEnv{service: service, rdb: rdb, raw: pc.raw, proxies: pc.proxies, code: ops.CodeOutcomeUnknown}
	}
	t.Run("FreshClient", func(t *testing.T) { testLostReplies(t, env("fresh", pc.client(t))) })
	t.Run("UsedClient", func(t *testing.T) {
		rdb := pc.client(t)
		if err := rdb.ForEachShard(context.Background(), func(ctx context.Context, n *redis.Client) error {
			return n.Ping(ctx).Err()
		}); err != nil {
			t.Fatal(err)
		}
		testLostReplies(t, env("used", rdb))
	})
}

// testLostReplies drops the reply of an INCR, an XADD, a PUBLISH and a lease acquisition
// after each reached Redis: each must have been sent once and applied once, and the caller must
// see e.code.
func testLostReplies(t *testing.T, e lostEnv) {
	st, err := client.New().WithService(e.service).WithAdapter(client.Redis(e.rdb)).WithoutRetry().Build()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	prefix := "igniter:store:" + e.service + ":"

	t.Run("INCR", func(t *testing.T) {
		if _, err := st.Counter.Increment(ctx, "n"); err != nil { // connections and slot map ready
			t.Fatal(err)
		}
		var incErr error
		if sent := e.dropNext(t, "incr", func() { _, incErr = st.Counter.Increment(ctx, "n") }); sent != 1 {
			t.Fatalf("INCR sent %d times, want 1", sent)
		}
		e.wantLost(t, "counter.increment", incErr)
		if n, err := e.raw.Get(ctx, prefix+"counter:n").Int64(); err != nil || n != 2 {
			t.Fatalf("counter = %d %v, want 2: the ambiguous INCR ran exactly once", n, err)
		}
	})

	t.Run("XADD", func(t *testing.T) {
		var addErr error
		if sent := e.dropNext(t, "xadd", func() { _, addErr = st.Streams.Append(ctx, "s", 1, streams.AppendOptions{}) }); sent != 1 {
			t.Fatalf("XADD sent %d times, want 1", sent)
		}
		e.wantLost(t, "stream.append", addErr)
		if n, err := e.raw.XLen(ctx, prefix+"streams:s").Result(); err != nil || n != 1 {
			t.Fatalf("stream length = %d %v, want 1", n, err)
		}
	})

	t.Run("PUBLISH", func(t *testing.T) {
		box := newInbox()
		if _, err := st.Events.Subscribe(ctx, "ping", box.handler); err != nil {
			t.Fatal(err)
		}
		var pubErr error
		if sent := e.dropNext(t, "publish", func() { pubErr = st.Events.Publish(ctx, "ping", 1) }); sent != 1 {
			t.Fatalf("PUBLISH sent %d times, want 1", sent)
		}
		e.wantLost(t, "events.publish", pubErr)
		// A cluster client sends each PUBLISH to a random node, so deliveries need not come in
		// publish order: wait for the lost one and a marker, then a second marker, and fail on
		// any repeat. That PUBLISH reached Redis exactly once is the proxies' count above.
		must(t, st.Events.Publish(ctx, "ping", 2))
		got := map[string]int{}
		for got["1"] == 0 || got["2"] == 0 {
			got[string(box.next(t).Data)]++
		}
		must(t, st.Events.Publish(ctx, "ping", 3))
		for got["3"] == 0 {
			got[string(box.next(t).Data)]++
		}
		if got["1"] != 1 || got["2"] != 1 {
			t.Fatalf("deliveries %v: want the lost PUBLISH once", got)
		}
	})

	t.Run("LeaseAcquire", func(t *testing.T) {
		// A first lease loads the script on the node (EVALSHA then answers without NOSCRIPT).
		l, err := st.Claim.Acquire(ctx, "job", 10e9, client.AcquireOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Release(ctx); err != nil {
			t.Fatal(err)
		}
		fence := client.LeaseFenceKey(prefix + "claim:job")
		var acqErr error
		if sent := e.dropNext(t, "evalsha", func() { _, acqErr = st.Claim.Acquire(ctx, "job", 10e9, client.AcquireOptions{}) }); sent != 1 {
			t.Fatalf("EVALSHA sent %d times, want 1", sent)
		}
		e.wantLost(t, "lease.acquire", acqErr)
		// Fences are clock-floored (not consecutive): the proxies' count above is what proves the
		// acquisition was sent once; the counter shows it ran.
		v, err := e.raw.Get(ctx, fence).Int64()
		if err != nil || v <= l.Fence() {
			t.Fatalf("fence = %d %v, want above the first lease's %d: the ambiguous acquisition ran", v, err, l.Fence())
		}
	})
}
