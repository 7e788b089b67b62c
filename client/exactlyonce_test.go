package client_test

import (
	"context"
	"errors"
	"net"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/faultproxy"
	"github.com/igniter-go/store/internal/keyspace"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/streams"
)

// Issue 22: every store command is sent at most once on every path, and a lost reply is
// STORE_OUTCOME_UNKNOWN everywhere. `go test -run ExactlyOnce ./...` runs these.

// buildStore builds a store without retries on rdb, closed at the test's end.
func buildStore(t *testing.T, service string, rdb redis.UniversalClient, opts ...client.RedisOption) *client.Store {
	t.Helper()
	st, err := client.New().WithService(service).WithAdapter(client.Redis(rdb, opts...)).WithoutRetry().Build()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// proxiedClusterClient is pc.client with ContextTimeoutEnabled (what Build asks of a client).
func (pc *proxiedCluster) clientWith(t *testing.T, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *redis.ClusterClient {
	var d net.Dialer
	rdb := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs: pc.c.Addrs, MaxRetries: -1, ContextTimeoutEnabled: true,
		Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if p, ok := pc.via[addr]; ok {
				addr = p
			}
			if dial != nil {
				return dial(ctx, network, addr)
			}
			return d.DialContext(ctx, network, addr)
		},
	})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// Item 1: a blocking XREADGROUP on a cluster (the blocking-read pool's own ClusterClient) whose
// reply is lost is not sent again: the caller is told the outcome is unknown, and the entry the
// lost read delivered is pending, not silently skipped by a second read.
func TestExactlyOnceClusterBlockingReadLostReply(t *testing.T) {
	pc := startProxiedCluster(t)
	st := buildStore(t, "blk", pc.clientWith(t, nil))
	ctx := context.Background()
	g := st.Streams.Group("g", "c1")
	must(t, g.Ensure(ctx, "s", streams.EnsureOptions{}))
	for i := 1; i <= 2; i++ {
		if _, err := st.Streams.Append(ctx, "s", i, streams.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	e := lostEnv{proxies: pc.proxies}
	var readErr error
	var got []streams.Entry
	sent := e.dropNext(t, "xreadgroup", func() {
		got, readErr = g.Read(ctx, "s", streams.ReadOptions{Count: 1, Block: time.Second})
	})
	if sent != 1 {
		t.Fatalf("XREADGROUP sent %d times, want 1 (got %v, err %v)", sent, got, readErr)
	}
	if ops.CodeOf(readErr) != ops.CodeOutcomeUnknown {
		t.Fatalf("blocking read with its reply lost: entries %v, err %v; want STORE_OUTCOME_UNKNOWN", got, readErr)
	}
	pending, err := pc.raw.XPending(ctx, "igniter:store:blk:streams:s", "g").Result()
	if err != nil || pending.Count != 1 {
		t.Fatalf("pending = %+v %v, want the one entry the lost read delivered", pending, err)
	}
}

// Item 3: during a slot migration a lone INCR is redirected with ASK, and go-redis sends
// ASKING + INCR to the importing node through a node pipeline. The reply is lost there: the
// INCR ran once and the caller is told STORE_OUTCOME_UNKNOWN.
func TestExactlyOnceClusterAskRedirectLostReply(t *testing.T) {
	pc := startProxiedCluster(t)
	ctx := context.Background()
	key := "igniter:store:ask:counter:n"
	slot := keyspace.Slot(key)
	src, dst, dstProxy := migrate(t, pc, slot)
	defer func() { // finish nothing: put the slot back on its owner for the cleanup's sake
		for _, n := range []*redis.Client{src, dst} {
			_ = n.Do(ctx, "CLUSTER", "SETSLOT", slot, "STABLE").Err()
		}
	}()
	st := buildStore(t, "ask", pc.clientWith(t, nil))
	var incErr error
	before := dstProxy.Count("incr")
	dstProxy.DropReplyTo("incr")
	_, incErr = st.Counter.Increment(ctx, "n")
	dstProxy.Disarm()
	if sent := dstProxy.Count("incr") - before; sent != 1 {
		t.Fatalf("INCR sent %d times to the importing node, want 1 (err %v)", sent, incErr)
	}
	if ops.CodeOf(incErr) != ops.CodeOutcomeUnknown {
		t.Fatalf("INCR after ASK with its reply lost: err = %v, want STORE_OUTCOME_UNKNOWN", incErr)
	}
	pipe := dst.Pipeline()
	pipe.Do(ctx, "ASKING")
	get := pipe.Get(ctx, key)
	if _, err := pipe.Exec(ctx); err != nil || get.Val() != "1" {
		t.Fatalf("counter on the importing node = %q %v, want 1: the ambiguous INCR ran exactly once", get.Val(), err)
	}
}

// migrate marks slot as migrating from its owner to another primary (nothing is moved: a key
// of the slot absent from the owner is answered with ASK). It returns direct clients of both
// nodes and the importing node's proxy.
func migrate(t *testing.T, pc *proxiedCluster, slot int) (src, dst *redis.Client, dstProxy *faultproxy.Proxy) {
	t.Helper()
	ctx := context.Background()
	ids := map[string]string{}
	var owner string
	for _, addr := range pc.c.Addrs {
		n := redis.NewClient(&redis.Options{Addr: addr})
		t.Cleanup(func() { _ = n.Close() })
		id, err := n.Do(ctx, "CLUSTER", "MYID").Text()
		if err != nil {
			t.Fatal(err)
		}
		ids[addr] = id
	}
	slots, err := pc.raw.ClusterSlots(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range slots {
		if slot >= r.Start && slot <= r.End {
			owner = r.Nodes[0].Addr
		}
	}
	var target string
	for i, addr := range pc.c.Addrs {
		if addr != owner && target == "" {
			target = addr
			dstProxy = pc.proxies[i]
		}
	}
	src = redis.NewClient(&redis.Options{Addr: owner})
	dst = redis.NewClient(&redis.Options{Addr: target})
	t.Cleanup(func() { _ = src.Close(); _ = dst.Close() })
	must(t, dst.Do(ctx, "CLUSTER", "SETSLOT", slot, "IMPORTING", ids[owner]).Err())
	must(t, src.Do(ctx, "CLUSTER", "SETSLOT", slot, "MIGRATING", ids[target]).Err())
	return src, dst, dstProxy
}

// Item 4: the application used the cluster client while the cluster was unreachable (so go-redis
// made its seed nodes then) and built the store before it came back: a lost INCR reply is still
// sent once and reported STORE_OUTCOME_UNKNOWN.
func TestExactlyOnceClusterClientUsedWhileDown(t *testing.T) {
	pc := startProxiedCluster(t)
	var down atomic.Bool
	down.Store(true)
	var d net.Dialer
	rdb := pc.clientWith(t, func(ctx context.Context, network, addr string) (net.Conn, error) {
		if down.Load() {
			return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
		}
		return d.DialContext(ctx, network, addr)
	})
	ctx := context.Background()
	if err := rdb.Ping(ctx).Err(); err == nil {
		t.Fatal("ping succeeded while the cluster was unreachable")
	}
	st := buildStore(t, "down", rdb)
	down.Store(false) // the cluster is back
	if _, err := st.Counter.Increment(ctx, "n"); err != nil {
		t.Fatal(err)
	}
	e := lostEnv{proxies: pc.proxies}
	var incErr error
	if sent := e.dropNext(t, "incr", func() { _, incErr = st.Counter.Increment(ctx, "n") }); sent != 1 {
		t.Fatalf("INCR sent %d times, want 1 (err %v)", sent, incErr)
	}
	if ops.CodeOf(incErr) != ops.CodeOutcomeUnknown {
		t.Fatalf("INCR with its reply lost: err = %v, want STORE_OUTCOME_UNKNOWN", incErr)
	}
	if n, err := pc.raw.Get(ctx, "igniter:store:down:counter:n").Int64(); err != nil || n != 2 {
		t.Fatalf("counter = %d %v, want 2: the ambiguous INCR ran exactly once", n, err)
	}
}

// Item 5: Build never touches the network, a ClusterClient's included (nothing is dialled, even
// when the cluster is unreachable).
func TestExactlyOnceBuildNeverDials(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = c.Close() })
		}
	}()
	var dials atomic.Int64
	var d net.Dialer
	dialer := func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return d.DialContext(ctx, network, addr)
	}
	for _, tc := range []struct {
		name string
		rdb  redis.UniversalClient
	}{
		{"Cluster", redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{ln.Addr().String()}, MaxRetries: -1,
			ContextTimeoutEnabled: true, ReadTimeout: 200 * time.Millisecond, Dialer: dialer})},
		{"SingleNode", redis.NewClient(&redis.Options{Addr: ln.Addr().String(), MaxRetries: -1,
			ContextTimeoutEnabled: true, ReadTimeout: 200 * time.Millisecond, Dialer: dialer})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer tc.rdb.Close()
			before := dials.Load()
			st := buildStore(t, "nodial", tc.rdb)
			if n := dials.Load() - before; n != 0 {
				t.Fatalf("Build dialled %d times", n)
			}
			_ = st.Close()
			if n := dials.Load() - before; n != 0 {
				t.Fatalf("Build and Close dialled %d times", n)
			}
		})
	}
}

// Item 9: stores built and closed on one ClusterClient leave nothing behind: the application's
// own commands pass through as many hooks after 50 stores as after one.
func TestExactlyOnceClusterStoresLeaveNoHooks(t *testing.T) {
	c := redistest.StartCluster(t, 3)
	depth := func(stores int) [2]int64 {
		rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs, MaxRetries: -1, ContextTimeoutEnabled: true})
		defer rdb.Close()
		ctx := context.Background()
		must(t, rdb.Ping(ctx).Err())
		for i := range stores {
			st := buildStore(t, "h"+strconv.Itoa(i), rdb)
			if _, err := st.Counter.Increment(ctx, "n"); err != nil {
				t.Fatal(err)
			}
			must(t, st.Close())
		}
		// The probes are the last hooks, so the innermost: every hook added before them is on
		// the stack below them, on the cluster client and on the node client.
		var top, node atomic.Int64
		rdb.AddHook(stackProbe{frames: &top})
		must(t, rdb.ForEachShard(ctx, func(_ context.Context, n *redis.Client) error {
			n.AddHook(stackProbe{frames: &node})
			return nil
		}))
		must(t, rdb.Set(ctx, "app-key", "v", 0).Err())
		if top.Load() == 0 || node.Load() == 0 {
			t.Fatalf("the probes did not see the SET: %d %d", top.Load(), node.Load())
		}
		return [2]int64{top.Load(), node.Load()}
	}
	one, fifty := depth(1), depth(50)
	if fifty != one {
		t.Fatalf("an application SET runs under %v stack frames (cluster client, node client) after 50 stores were built and closed, %v after one: hooks were left behind", fifty, one)
	}
}

// stackProbe records the stack depth at which it sees a SET.
type stackProbe struct{ frames *atomic.Int64 }

func (stackProbe) DialHook(next redis.DialHook) redis.DialHook { return next }
func (p stackProbe) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == "set" {
			pcs := make([]uintptr, 512)
			p.frames.Store(int64(runtime.Callers(0, pcs)))
		}
		return next(ctx, cmd)
	}
}
func (stackProbe) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// Item 10: a cluster Batch.Set whose EXEC reply is lost ran (it is applied) and is reported
// STORE_OUTCOME_UNKNOWN, not STORE_CONNECTION_FAILED.
func TestExactlyOnceClusterBatchSetLostReply(t *testing.T) {
	pc := startProxiedCluster(t)
	st := buildStore(t, "bs", pc.clientWith(t, nil))
	ctx := context.Background()
	must(t, st.KV.Set(ctx, "warm", 1, 0)) // slot map and connections ready
	e := lostEnv{proxies: pc.proxies}
	var setErr error
	if sent := e.dropNext(t, "exec", func() {
		setErr = st.Batch.Set(ctx, client.BatchEntry{Key: "{b}:1", Value: 1}, client.BatchEntry{Key: "{b}:2", Value: 2})
	}); sent != 1 {
		t.Fatalf("EXEC sent %d times, want 1", sent)
	}
	if ops.CodeOf(setErr) != ops.CodeOutcomeUnknown || !errors.Is(setErr, ops.ErrUnavailable) {
		t.Fatalf("Batch.Set with its EXEC reply lost: err = %v, want STORE_OUTCOME_UNKNOWN", setErr)
	}
	if v, err := pc.raw.Get(ctx, "igniter:store:bs:kv:{b}:2").Result(); err != nil || v != "2" {
		t.Fatalf("batch entry = %q %v: EXEC ran", v, err)
	}
}

// "One meaning per code": on a single node, a cluster and Sentinel alike, a write whose reply
// was lost after it was written is STORE_OUTCOME_UNKNOWN, and a write that certainly never left
// (every connection refused) is STORE_CONNECTION_FAILED.
func TestExactlyOnceOneMeaningPerCode(t *testing.T) {
	type backend struct {
		rdb     redis.UniversalClient
		raw     redis.UniversalClient
		proxies []*faultproxy.Proxy
		refuse  *atomic.Bool
	}
	refusing := func(via map[string]string, refuse *atomic.Bool) func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		return func(ctx context.Context, network, addr string) (net.Conn, error) {
			p, data := via[addr]
			if data {
				if refuse.Load() {
					return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
				}
				addr = p
			}
			return d.DialContext(ctx, network, addr)
		}
	}
	for _, tc := range []struct {
		name  string
		start func(t *testing.T) backend
	}{
		{"SingleNode", func(t *testing.T) backend {
			srv := redistest.Start(t)
			p := faultproxy.Start(t, srv.Addr)
			refuse := &atomic.Bool{}
			rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, ContextTimeoutEnabled: true,
				Dialer: refusing(map[string]string{srv.Addr: p.Addr}, refuse)})
			t.Cleanup(func() { _ = rdb.Close() })
			return backend{rdb, srv.Client(t), []*faultproxy.Proxy{p}, refuse}
		}},
		{"Cluster", func(t *testing.T) backend {
			pc := startProxiedCluster(t)
			refuse := &atomic.Bool{}
			rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: pc.c.Addrs, MaxRetries: -1, ContextTimeoutEnabled: true,
				Dialer: refusing(pc.via, refuse)})
			t.Cleanup(func() { _ = rdb.Close() })
			return backend{rdb, pc.raw, pc.proxies, refuse}
		}},
		{"Sentinel", func(t *testing.T) backend {
			s := redistest.StartSentinel(t, redistest.SentinelOptions{})
			via := map[string]string{}
			var proxies []*faultproxy.Proxy
			for _, n := range append([]*redistest.Server{s.Primary}, s.Replicas...) {
				p := faultproxy.Start(t, n.Addr)
				proxies = append(proxies, p)
				via[n.Addr] = p.Addr
			}
			refuse := &atomic.Bool{}
			rdb := redis.NewFailoverClient(&redis.FailoverOptions{
				MasterName: redistest.SentinelMaster, SentinelAddrs: s.SentinelAddrs, MaxRetries: -1, ContextTimeoutEnabled: true,
				Dialer: refusing(via, refuse)})
			t.Cleanup(func() { _ = rdb.Close() })
			return backend{rdb, s.Client(t), proxies, refuse}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.start(t)
			st := buildStore(t, "code", b.rdb)
			ctx := context.Background()
			if _, err := st.Counter.Increment(ctx, "n"); err != nil {
				t.Fatal(err)
			}
			e := lostEnv{proxies: b.proxies}
			var lostErr error
			if sent := e.dropNext(t, "incr", func() { _, lostErr = st.Counter.Increment(ctx, "n") }); sent != 1 {
				t.Fatalf("INCR sent %d times, want 1", sent)
			}
			if ops.CodeOf(lostErr) != ops.CodeOutcomeUnknown {
				t.Errorf("lost reply: err = %v, want STORE_OUTCOME_UNKNOWN", lostErr)
			}
			// Never sent: every data connection is refused from now on; the open ones are closed.
			b.refuse.Store(true)
			for _, p := range b.proxies {
				p.Close()
			}
			_, neverErr := st.Counter.Increment(ctx, "n")
			if ops.CodeOf(neverErr) != ops.CodeConnectionFailed {
				t.Errorf("refused connection: err = %v, want STORE_CONNECTION_FAILED", neverErr)
			}
			if n, err := b.raw.Get(ctx, "igniter:store:code:counter:n").Int64(); err != nil || n != 2 {
				t.Errorf("counter = %d %v, want 2", n, err)
			}
		})
	}
}
