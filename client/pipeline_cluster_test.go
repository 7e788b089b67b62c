package client

// The pipelining executor on Redis Cluster (issue #12): per-node batches with the per-op
// semantics of pipeline_test.go, on a real 3-primary cluster. Held batches use CLIENT PAUSE
// WRITE on one node (reads go on, writes block at the server), lost replies a fault proxy in
// front of each node.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/internal/faultproxy"
	"github.com/igniter-go/store/internal/keyspace"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
)

// batchObserver is a test-owned node hook (as an application's instrumentation would be): it
// records, per node address, the pipelines go-redis writes there, and it reads every command's
// result after the write, as tracing hooks do (a store command go-redis did not register as
// its own batch's would wait on itself here, and the test would hang).
type batchObserver struct {
	mu sync.Mutex
	// store: the store's pipelined commands (NoRetry, see internal/executor) seen per node:
	// batches, commands, the largest batch, and each command's key.
	batches, cmds, largest map[string]int
	keys                   map[string][]string
	// failed is the size of the largest store batch whose write or read failed on the network.
	failed int
}

func newBatchObserver() *batchObserver {
	return &batchObserver{batches: map[string]int{}, cmds: map[string]int{}, largest: map[string]int{}, keys: map[string][]string{}}
}

// install hooks every node client rdb creates: call it before rdb's first command.
func (o *batchObserver) install(rdb *redis.ClusterClient) {
	rdb.OnNewNode(func(n *redis.Client) { n.AddHook(nodeHook{o: o, addr: n.Options().Addr}) })
}

type nodeHook struct {
	o    *batchObserver
	addr string
}

func (nodeHook) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (nodeHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (h nodeHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		var store []redis.Cmder
		for _, c := range cmds {
			_ = c.Err() // read after next, as a tracing hook does
			if c.NoRetry() {
				store = append(store, c)
			}
		}
		if len(store) == 0 {
			return err
		}
		var reply redis.Error
		netFail := err != nil && !errors.As(err, &reply)
		h.o.mu.Lock()
		defer h.o.mu.Unlock()
		h.o.batches[h.addr]++
		h.o.cmds[h.addr] += len(store)
		h.o.largest[h.addr] = max(h.o.largest[h.addr], len(store))
		for _, c := range store {
			if k, ok := c.Args()[1].(string); ok {
				h.o.keys[h.addr] = append(h.o.keys[h.addr], k)
			}
		}
		if netFail {
			h.o.failed = max(h.o.failed, len(store))
		}
		return err
	}
}

// clusterStore builds a store with the pipeline on (the default) over rdb.
// observedCluster starts a 3-primary cluster and a store on its client, whose node batches obs
// records.
func observedCluster(t *testing.T) (*redis.ClusterClient, *batchObserver, *Store) {
	t.Helper()
	rdb := redistest.StartCluster(t, 3).Client(t)
	obs := newBatchObserver()
	obs.install(rdb)
	st, _ := clusterStore(t, rdb, New())
	return rdb, obs, st
}

func clusterStore(t *testing.T, rdb redis.UniversalClient, b *Builder) (*Store, *redisAdapter) {
	t.Helper()
	a := Redis(rdb).(*redisAdapter)
	st, err := b.WithService("p").WithAdapter(a).Build()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if !pipelines(a) {
		t.Fatal("the Redis adapter over a *redis.ClusterClient must pipeline by default")
	}
	return st, a
}

// A ClusterClient is pipelined by default (this replaces the test that it was not, from before
// its batches were made safe); WithoutPipelining turns it off.
func TestPipelineOnACluster(t *testing.T) {
	c := redistest.StartCluster(t, 3)
	clusterStore(t, c.Client(t), New()) // fails unless pipelined
	if a := Redis(c.Client(t), WithoutPipelining()).(*redisAdapter); pipelines(a) {
		t.Fatal("WithoutPipelining must send every command on the cluster client")
	}
}

// 64 callers on a 3-primary cluster: their ops ride shared batches, and every batch goes to the
// node that serves its keys' slots; every op gets its own reply.
func TestPipelineClusterBatchesPerNode(t *testing.T) {
	rdb, obs, st := observedCluster(t)
	ctx := context.Background()

	const callers, rounds = 64, 40
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for i := range callers {
		wg.Go(func() {
			key := "k" + strconv.Itoa(i) // 64 keys: slots on every node
			for r := 1; r <= rounds; r++ {
				if n, err := st.Counter.Increment(ctx, key); err != nil || n != int64(r) {
					errs <- fmt.Errorf("caller %d: INCR returned %d (%v), want %d", i, n, err, r)
					return
				}
				if err := st.KV.Set(ctx, key, r, 0); err != nil {
					errs <- err
					return
				}
				var got int
				if ok, err := st.KV.Get(ctx, key, &got); err != nil || !ok || got != r {
					errs <- fmt.Errorf("caller %d round %d read %d (%v %v): its own write must be visible", i, r, got, ok, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	obs.mu.Lock()
	defer obs.mu.Unlock()
	if len(obs.batches) != 3 {
		t.Fatalf("store batches reached nodes %v, want all 3 primaries", obs.batches)
	}
	for addr, n := range obs.batches {
		t.Logf("%s: %d batches, %d commands, largest %d", addr, n, obs.cmds[addr], obs.largest[addr])
		if obs.largest[addr] < 2 {
			t.Errorf("node %s got no batch of more than one command: not pipelined", addr)
		}
		for _, k := range obs.keys[addr] {
			m, err := rdb.MasterForKey(ctx, k)
			if err != nil {
				t.Fatal(err)
			}
			if m.Options().Addr != addr {
				t.Fatalf("%s (slot %d) was sent to %s in a batch; its slot is served by %s", k, keyspace.Slot(k), addr, m.Options().Addr)
			}
		}
	}
}

// pauseNode holds writes on the node serving key (CLIENT PAUSE WRITE: reads go on) and parks
// a lone op there (an INCR on gateKey, same node), so every later op of the store goes through
// the autopipeliner. It returns the node's client and the release.
func pauseNode(t *testing.T, st *Store, rdb *redis.ClusterClient, key, gateKey string) (node *redis.Client, release func()) {
	t.Helper()
	ctx := context.Background()
	node, err := rdb.MasterForKey(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := node.Do(ctx, "CLIENT", "PAUSE", 60_000, "WRITE").Err(); err != nil {
		t.Fatal(err)
	}
	released := false
	release = func() {
		if !released {
			released = true
			if err := node.Do(ctx, "CLIENT", "UNPAUSE").Err(); err != nil {
				t.Error(err)
			}
		}
	}
	t.Cleanup(release)
	gate := make(chan error, 1)
	go func() { _, err := st.Counter.Increment(ctx, gateKey); gate <- err }()
	waitFor(t, "the direct op to block", func() bool { return blockedOn(t, node) == 1 })
	t.Cleanup(func() {
		if err := <-gate; err != nil {
			t.Errorf("gate: %v", err)
		}
	})
	return node, release
}

// blockedOn is the number of clients node reports blocked (INFO clients: blocked_clients).
func blockedOn(t *testing.T, node *redis.Client) int {
	t.Helper()
	return redistest.InfoInt(t, node, "clients", "blocked_clients")
}

// Batch.Get across slots on the pipelined path: one MGET per slot, each in its node's batch,
// values back in input order (duplicates and missing keys included).
func TestPipelineClusterBatchGetAcrossSlots(t *testing.T) {
	rdb, obs, st := observedCluster(t)
	ctx := context.Background()

	var keys []string
	for i := range 24 {
		k := "b" + strconv.Itoa(i)
		if i%5 != 4 { // every fifth key stays missing
			if err := st.KV.Set(ctx, k, i, 0); err != nil {
				t.Fatal(err)
			}
		}
		keys = append(keys, k)
	}
	keys = append(keys, "b3", "{b}x", "{b}y", "b0") // a duplicate, a hash-tagged pair, a repeat
	if err := st.KV.Set(ctx, "{b}x", "x", 0); err != nil {
		t.Fatal(err)
	}
	slots := map[int]bool{}
	for _, k := range keys {
		slots[keyspace.Slot("igniter:store:p:kv:"+k)] = true
	}

	// A write parked on one node keeps an op in flight, so the Batch.Get goes through the
	// pipeline; reads are not paused.
	_, release := pauseNode(t, st, rdb, "igniter:store:p:counter:gate", "gate")
	obs.mu.Lock()
	before := 0
	for _, n := range obs.cmds {
		before += n
	}
	obs.mu.Unlock()
	items, err := st.Batch.Get(ctx, keys...)
	if err != nil {
		t.Fatal(err)
	}
	release()
	for i, it := range items {
		k := keys[i]
		var want any
		switch {
		case k == "{b}x":
			want = "x"
		case k == "{b}y":
			want = nil
		default:
			n, _ := strconv.Atoi(strings.TrimPrefix(k, "b"))
			if n%5 != 4 {
				want = float64(n)
			}
		}
		if it.Key != k || it.Found != (want != nil) || (want != nil && it.Value != want) {
			t.Errorf("item %d: %+v, want key %s value %v", i, it, k, want)
		}
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	after := 0
	for _, n := range obs.cmds {
		after += n
	}
	if got := after - before; got != len(slots) {
		t.Fatalf("the Batch.Get sent %d pipelined commands, want one MGET per slot (%d)", got, len(slots))
	}
}

// An op queued behind a held batch whose ctx ends returns its ctx error at once and is never
// written; the ops around it run.
func TestPipelineClusterDropsAQueuedOpWhoseCtxEnds(t *testing.T) {
	c := redistest.StartCluster(t, 3)
	rdb := c.Client(t)
	st, a := clusterStore(t, rdb, New())
	ctx := context.Background()
	waiting, first, release := holdClusterBatch(t, rdb, st, a)

	dropped, after := assertQueuedOpDropped(t, st, "{t}", waiting, first, release)
	exists := func(k string) bool {
		n, err := rdb.Exists(ctx, "igniter:store:p:kv:"+k).Result()
		if err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	if exists(dropped) {
		t.Fatal("a cancelled op that was still queued was written")
	}
	if !exists("{t}first") || !exists(after) {
		t.Fatal("the ops around the dropped one must run")
	}
}

// holdClusterBatch holds a batch of st's pipeline on the node of slot {t}: every key in one slot,
// one node, one shard of the autopipeliner. It returns the count of pipelined commands awaited
// (2 are the held batch's, as assertQueuedOpDropped expects), the held op's outcome and the
// release.
func holdClusterBatch(t *testing.T, rdb *redis.ClusterClient, st *Store, a *redisAdapter) (waiting func() int, first chan error, release func()) {
	t.Helper()
	waiting = func() int { _, n, _ := a.exec.PipelineState(); return int(n) }
	node, release := pauseNode(t, st, rdb, "igniter:store:p:counter:{t}gate", "{t}gate")
	first = make(chan error, 1)
	go func() { first <- st.KV.Set(context.Background(), "{t}first", 1, 0) }()
	waitFor(t, "the first batch to block", func() bool { return blockedOn(t, node) == 2 })
	return waiting, first, release
}

// A queued op alone in its batch whose ctx ends is dropped as well: go-redis sends a
// one-command batch down its single-command path (the cluster client's process hooks), which
// must reach the store's drop hook too.
func TestPipelineClusterDropsALoneQueuedOpWhoseCtxEnds(t *testing.T) {
	c := redistest.StartCluster(t, 3)
	rdb := c.Client(t)
	rec := newOutcomeRecorder()
	rdb.AddHook(rec) // before the store's drop hook: outermost
	st, a := clusterStore(t, rdb, New())
	ctx := context.Background()
	waiting, first, release := holdClusterBatch(t, rdb, st, a)

	assertLoneQueuedOpLeaves(t, st, "{t}", waiting, first, release)
	key := "igniter:store:p:kv:{t}lone"
	if err := rec.outcome(t, key); err == nil {
		t.Fatal("the cancelled op's command came back without the drop error: it was written")
	}
	if n, err := rdb.Exists(ctx, key).Result(); err != nil || n != 0 {
		t.Fatalf("EXISTS %s = %d, %v: a cancelled op that was still queued was written", key, n, err)
	}
}

// A reply lost mid-batch on one node (the proxy in front of it closes the connection after a
// pipelined INCR reached Redis): no INCR of the batch is sent again, so the counter lies
// between the acknowledged increments and those plus the ones whose outcome the callers were
// told is unknown; every failure is STORE_OUTCOME_UNKNOWN or unavailable.
func TestPipelineClusterLostReplyMidBatchIsNotResent(t *testing.T) {
	c := redistest.StartCluster(t, 3)
	via := map[string]*faultproxy.Proxy{}
	for _, addr := range c.Addrs {
		via[addr] = faultproxy.Start(t, addr)
	}
	var d net.Dialer
	rdb := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs: c.Addrs, MaxRetries: -1, ContextTimeoutEnabled: true,
		Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if p, ok := via[addr]; ok {
				addr = p.Addr
			}
			return d.DialContext(ctx, network, addr)
		},
	})
	t.Cleanup(func() { _ = rdb.Close() })
	obs := newBatchObserver()
	obs.install(rdb)
	st, _ := clusterStore(t, rdb, New().WithoutRetry().WithoutBreaker())
	ctx := context.Background()
	const key = "igniter:store:p:counter:n"
	node, err := c.Client(t).MasterForKey(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	proxy := via[node.Options().Addr]

	var acked, unknown, unavailable atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 64 {
		wg.Go(func() {
			for !stop.Load() {
				_, err := st.Counter.Increment(ctx, "n")
				switch {
				case err == nil:
					acked.Add(1)
				case ops.CodeOf(err) == ops.CodeOutcomeUnknown && errors.Is(err, ops.ErrUnavailable):
					unknown.Add(1)
				case errors.Is(err, ops.ErrUnavailable):
					unavailable.Add(1)
				default:
					errs <- err
					return
				}
			}
		})
	}
	// Traffic first, then one lost reply, then traffic again (the store recovers).
	waitFor(t, "traffic", func() bool { return acked.Load() >= 200 })
	<-proxy.DropReplyTo("incr")
	mark := acked.Load()
	waitFor(t, "traffic after the lost reply", func() bool { return acked.Load() >= mark+200 })
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("a failure other than unknown outcome or unavailable: %v", err)
	}

	n, err := c.Client(t).Get(ctx, key).Int64()
	if err != nil {
		t.Fatal(err)
	}
	a, u := acked.Load(), unknown.Load()
	obs.mu.Lock()
	failed := obs.failed
	obs.mu.Unlock()
	t.Logf("counter %d, acknowledged %d, unknown outcome %d, unavailable %d; largest failed batch %d", n, a, u, unavailable.Load(), failed)
	if u == 0 {
		t.Fatal("the INCR whose reply was lost must be reported as STORE_OUTCOME_UNKNOWN")
	}
	if failed < 2 {
		t.Fatalf("the lost reply hit a batch of %d store commands, want a batch (the test did not exercise the pipeline)", failed)
	}
	if n < a || n > a+u {
		t.Fatalf("counter %d outside [acknowledged %d, acknowledged + unknown %d]: an INCR was applied twice or an acknowledged one lost", n, a, a+u)
	}
}

// Batch.Set stays one MULTI/EXEC per slot beside pipelined traffic on a cluster: no pipelined
// Batch.Get of keys in one slot sees half a batch, and the batches of both land on the node.
func TestPipelineClusterBatchSetStaysAtomic(t *testing.T) {
	c := redistest.StartCluster(t, 3)
	st, _ := clusterStore(t, c.Client(t), New())
	assertBatchSetAtomic(t, st, []string{"{o}a", "{o}b", "{o}c", "{o}d"}) // one slot: one transaction
}

// The full-duplex option on a cluster (go-redis runs one full-duplex child per node) keeps
// replies and errors per op.
func TestPipelineClusterFullDuplexOption(t *testing.T) {
	c := redistest.StartCluster(t, 3)
	rdb := c.Client(t)
	a := Redis(rdb, Pipelining(PipelineOptions{FullDuplex: true})).(*redisAdapter)
	st, err := New().WithService("p").WithAdapter(a).Build()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ctx := context.Background()
	if err := rdb.LPush(ctx, "igniter:store:p:kv:list", "x").Err(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			key := "k" + strconv.Itoa(i)
			if err := st.KV.Set(ctx, key, i, 0); err != nil {
				t.Error(err)
			}
			var got int
			if ok, err := st.KV.Get(ctx, key, &got); err != nil || !ok || got != i {
				t.Errorf("%s: %d %v %v", key, got, ok, err)
			}
			if n, err := st.Counter.Increment(ctx, key); err != nil || n != 1 {
				t.Errorf("counter %s: %d %v", key, n, err)
			}
			if _, _, err := st.KV.GetRaw(ctx, "list"); !isReplyError(err, "WRONGTYPE") {
				t.Errorf("get of a list: %v", err)
			}
		})
	}
	wg.Wait()
}
