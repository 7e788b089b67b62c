package client_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/keyspace"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/streams"
)

// Review of issue 22 (cluster side): paths the first round of ExactlyOnce tests did not cover.

// nodeIDs returns each node's CLUSTER MYID, by address.
func nodeIDs(t *testing.T, pc *proxiedCluster) map[string]string {
	t.Helper()
	ids := map[string]string{}
	for _, addr := range pc.c.Addrs {
		n := redis.NewClient(&redis.Options{Addr: addr})
		id, err := n.Do(context.Background(), "CLUSTER", "MYID").Text()
		_ = n.Close()
		if err != nil {
			t.Fatal(err)
		}
		ids[addr] = id
	}
	return ids
}

// slotOwner returns the index in pc.c.Addrs of the primary serving slot.
func slotOwner(t *testing.T, pc *proxiedCluster, slot int) int {
	t.Helper()
	slots, err := pc.raw.ClusterSlots(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range slots {
		if slot >= r.Start && slot <= r.End {
			for i, a := range pc.c.Addrs {
				if a == r.Nodes[0].Addr {
					return i
				}
			}
		}
	}
	t.Fatalf("slot %d has no owner", slot)
	return -1
}

// moveEmptySlot hands an empty slot from its owner to another primary (CLUSTER SETSLOT … NODE on
// every node) and returns the old and the new owner's index. A client whose slot map is older
// sends the slot's commands to the old owner, which answers MOVED.
func moveEmptySlot(t *testing.T, pc *proxiedCluster, slot int) (from, to int) {
	t.Helper()
	ctx := context.Background()
	ids := nodeIDs(t, pc)
	from = slotOwner(t, pc, slot)
	to = (from + 1) % len(pc.c.Addrs)
	order := []int{to, from, (from + 2) % len(pc.c.Addrs)}
	for _, i := range order {
		n := redis.NewClient(&redis.Options{Addr: pc.c.Addrs[i]})
		err := n.Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", ids[pc.c.Addrs[to]]).Err()
		_ = n.Close()
		must(t, err)
	}
	return from, to
}

// A lone INCR sent with a stale slot map is answered MOVED by the old owner; go-redis follows it
// to the new owner, where the reply is lost. It ran once there and the caller is told the
// outcome is unknown.
func TestExactlyOnceReviewClusterMovedThenLostReply(t *testing.T) {
	pc := startProxiedCluster(t)
	ctx := context.Background()
	st := buildStore(t, "mv", pc.clientWith(t, nil))
	must(t, st.KV.Set(ctx, "warm", 1, 0)) // the client loads its slot map now
	key := "igniter:store:mv:counter:n"
	from, to := moveEmptySlot(t, pc, keyspace.Slot(key))
	fromBefore, toBefore := pc.proxies[from].Count("incr"), pc.proxies[to].Count("incr")
	pc.proxies[to].DropReplyTo("incr")
	_, err := st.Counter.Increment(ctx, "n")
	pc.proxies[to].Disarm()
	atFrom, atTo := pc.proxies[from].Count("incr")-fromBefore, pc.proxies[to].Count("incr")-toBefore
	if atTo != 1 {
		t.Fatalf("INCR sent %d times to the new owner (%d to the old one), want 1 (err %v)", atTo, atFrom, err)
	}
	if ops.CodeOf(err) != ops.CodeOutcomeUnknown {
		t.Fatalf("INCR after MOVED with its reply lost: err = %v, want STORE_OUTCOME_UNKNOWN", err)
	}
	if v, err := pc.raw.Get(ctx, key).Result(); err != nil || v != "1" {
		t.Fatalf("counter = %q %v, want 1", v, err)
	}
}

// tagsOnEveryNode returns one hash tag per primary: keys "{tag}…" of different tags live on
// different nodes.
func tagsOnEveryNode(t *testing.T, pc *proxiedCluster) []string {
	t.Helper()
	seen := map[int]string{}
	for i := 0; len(seen) < len(pc.c.Addrs) && i < 10000; i++ {
		tag := fmt.Sprintf("t%d", i)
		o := slotOwner(t, pc, keyspace.Slot("{"+tag+"}"))
		if _, ok := seen[o]; !ok {
			seen[o] = tag
		}
	}
	var tags []string
	for _, tag := range seen {
		tags = append(tags, tag)
	}
	return tags
}

// A Batch.Set spanning every primary loses the EXEC reply of each node's transaction: each EXEC
// ran once, and the caller is told the outcome is unknown.
func TestExactlyOnceReviewClusterBatchSpanningNodesLostReply(t *testing.T) {
	pc := startProxiedCluster(t)
	ctx := context.Background()
	st := buildStore(t, "bn", pc.clientWith(t, nil))
	must(t, st.KV.Set(ctx, "warm", 1, 0))
	tags := tagsOnEveryNode(t, pc)
	var entries []client.BatchEntry
	for _, tag := range tags {
		entries = append(entries, client.BatchEntry{Key: "{" + tag + "}:k", Value: 7})
	}
	e := lostEnv{proxies: pc.proxies}
	var setErr error
	if sent := e.dropNext(t, "exec", func() { setErr = st.Batch.Set(ctx, entries...) }); sent != len(tags) {
		t.Fatalf("EXEC sent %d times for %d slots, want one each (err %v)", sent, len(tags), setErr)
	}
	if ops.CodeOf(setErr) != ops.CodeOutcomeUnknown || !errors.Is(setErr, ops.ErrUnavailable) {
		t.Fatalf("Batch.Set with every EXEC reply lost: err = %v, want STORE_OUTCOME_UNKNOWN", setErr)
	}
}

// XAUTOCLAIM re-assigns entries and raises their delivery count: its lost reply is not re-sent.
func TestExactlyOnceReviewClusterClaimLostReply(t *testing.T) {
	pc := startProxiedCluster(t)
	ctx := context.Background()
	st := buildStore(t, "cl", pc.clientWith(t, nil))
	g1 := st.Streams.Group("g", "c1")
	must(t, g1.Ensure(ctx, "s", streams.EnsureOptions{}))
	if _, err := st.Streams.Append(ctx, "s", 1, streams.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, err := g1.Read(ctx, "s", streams.ReadOptions{Count: 1}); err != nil || len(got) != 1 {
		t.Fatalf("read = %v %v", got, err)
	}
	g2 := st.Streams.Group("g", "c2")
	e := lostEnv{proxies: pc.proxies}
	var err error
	if sent := e.dropNext(t, "xautoclaim", func() { _, _, err = g2.Claim(ctx, "s", streams.ClaimOptions{}) }); sent != 1 {
		t.Fatalf("XAUTOCLAIM sent %d times, want 1 (err %v)", sent, err)
	}
	if ops.CodeOf(err) != ops.CodeOutcomeUnknown {
		t.Fatalf("claim with its reply lost: err = %v, want STORE_OUTCOME_UNKNOWN", err)
	}
	p, perr := pc.raw.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: "igniter:store:cl:streams:s", Group: "g", Start: "-", End: "+", Count: 10}).Result()
	if perr != nil || len(p) != 1 || p[0].RetryCount != 2 {
		t.Fatalf("pending = %+v %v, want one entry delivered twice (read + one claim)", p, perr)
	}
}

// The GCRA script is not re-sent when its reply is lost: a second run would charge twice.
func TestExactlyOnceReviewClusterGCRALostReply(t *testing.T) {
	pc := startProxiedCluster(t)
	ctx := context.Background()
	st := buildStore(t, "rl", pc.clientWith(t, nil))
	rate := ops.RateArgs{Rate: 10, Period: time.Second, Burst: 10}
	if _, err := st.Counter.GCRA(ctx, "k", rate, 1); err != nil { // script loaded, slot map warm
		t.Fatal(err)
	}
	e := lostEnv{proxies: pc.proxies}
	var err error
	before := 0
	for _, p := range pc.proxies {
		before += p.Count("eval")
	}
	sent := e.dropNext(t, "evalsha", func() { _, err = st.Counter.GCRA(ctx, "k", rate, 1) })
	after := 0
	for _, p := range pc.proxies {
		after += p.Count("eval")
	}
	if sent+after-before != 1 {
		t.Fatalf("GCRA script sent %d times (evalsha %d, eval %d), want 1 (err %v)", sent+after-before, sent, after-before, err)
	}
	if ops.CodeOf(err) != ops.CodeOutcomeUnknown {
		t.Fatalf("GCRA with its reply lost: err = %v, want STORE_OUTCOME_UNKNOWN", err)
	}
}

// Stores built and closed concurrently on one ClusterClient while another store on it is
// pipelining: the shared hook registry is race-free (run with -race) and the live store's
// commands all succeed.
func TestExactlyOnceReviewClusterConcurrentBuildClose(t *testing.T) {
	pc := startProxiedCluster(t)
	ctx := context.Background()
	rdb := pc.clientWith(t, nil)
	live := buildStore(t, "live", rdb)
	must(t, live.KV.Set(ctx, "warm", 1, 0))
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for w := 0; w < 4; w++ {
		wg.Go(func() {
			for i := 0; i < 50; i++ {
				if err := live.KV.Set(ctx, fmt.Sprintf("k%d", i), i, 0); err != nil {
					errs <- err
				}
			}
		})
	}
	for b := 0; b < 2; b++ {
		wg.Go(func() {
			for i := 0; i < 10; i++ {
				st, err := client.New().WithService(fmt.Sprintf("tmp%d", b)).WithAdapter(client.Redis(rdb)).WithoutRetry().Build()
				if err != nil {
					errs <- err
					return
				}
				if err := st.KV.Set(ctx, "x", i, 0); err != nil {
					errs <- err
				}
				_ = st.Close()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// Item 2, measured on the store's consume loop itself (Group.Consume, default options: its own
// back-off between failed reads), not on a loop of Group.Read: after the primary of its stream is
// killed, the loop delivers entries appended after the kill well before go-redis's periodic
// slot-map reload (about 60 s). The bound (30 s) is a correctness guard, not a performance
// figure; the times are logged.
func TestExactlyOnceReviewClusterFailoverConsumeLoopRecovers(t *testing.T) {
	st, g, primary := startFailoverStream(t, "fc")
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var (
		killSeq   atomic.Int64
		consumed  = make(chan time.Time, 1)
		delivered = make(chan struct{}, 1)
		wg        sync.WaitGroup
	)
	killSeq.Store(1 << 62)
	wg.Go(func() {
		_ = g.Consume(ctx, loadKey, func(_ context.Context, e streams.Entry) error {
			select {
			case delivered <- struct{}{}:
			default:
			}
			if n, _ := strconv.ParseInt(string(e.Message), 10, 64); n > killSeq.Load() {
				select {
				case consumed <- time.Now():
				default:
				}
			}
			return nil
		}, streams.ConsumeOptions{})
	})
	var seq atomic.Int64
	var appendsAt atomic.Int64
	wg.Go(func() { // appender, one append per 5 ms
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for ctx.Err() == nil {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			n := seq.Load() + 1
			cctx, cancel := context.WithTimeout(ctx, time.Second)
			_, err := st.Streams.Append(cctx, loadKey, n, streams.AppendOptions{})
			cancel()
			if err == nil {
				seq.Store(n)
				if n > killSeq.Load() {
					appendsAt.CompareAndSwap(0, time.Now().UnixNano())
				}
			}
		}
	})
	<-delivered // the loop consumes
	victim := primary(ctx)
	waitReplicated(t, victim.Addr)
	killSeq.Store(seq.Load())
	victim.Kill()
	killedAt := time.Now()
	var at time.Time
	select {
	case at = <-consumed:
	case <-time.After(30 * time.Second): // a guard well under go-redis's 60 s periodic reload
		stop()
		wg.Wait()
		t.Fatalf("Consume delivered nothing appended after the kill within 30s (appends recovered: %v)", appendsAt.Load() != 0)
	}
	stop()
	wg.Wait()
	t.Logf("cluster failover: appends recovered %v, Consume %v after the kill",
		time.Duration(appendsAt.Load()-killedAt.UnixNano()).Round(time.Millisecond), at.Sub(killedAt).Round(time.Millisecond))
}

// Many INCRs of one node share a pipelined batch (half- and full-duplex); the reply of one is
// lost and the connection closes under the whole batch. No INCR ran twice, and every call told
// STORE_CONNECTION_FAILED did not run (its counter is 0).
func TestExactlyOnceReviewClusterPipelinedBatchLostReply(t *testing.T) {
	for _, fd := range []bool{false, true} {
		t.Run(fmt.Sprintf("FullDuplex=%v", fd), func(t *testing.T) {
			pc := startProxiedCluster(t)
			ctx := context.Background()
			svc := fmt.Sprintf("pb%v", fd)
			st, err := client.New().WithService(svc).WithAdapter(client.Redis(pc.clientWith(t, nil),
				client.Pipelining(client.PipelineOptions{FullDuplex: fd}))).WithoutRetry().WithoutBreaker().Build()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			must(t, st.KV.Set(ctx, "{h}:warm", 1, 0))
			owner := slotOwner(t, pc, keyspace.Slot("{h}"))
			p := pc.proxies[owner]
			for round := 0; round < 8; round++ {
				const n = 64
				before := p.Count("incr")
				errs := make([]error, n)
				start := make(chan struct{})
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() {
						<-start
						_, errs[i] = st.Counter.Increment(ctx, fmt.Sprintf("{h}:r%d:%d", round, i))
					})
				}
				p.DropReplyTo("incr")
				close(start)
				wg.Wait()
				p.Disarm()
				sent := p.Count("incr") - before
				applied := 0
				for i := range n {
					key := fmt.Sprintf("igniter:store:%s:counter:{h}:r%d:%d", svc, round, i)
					v, err := pc.raw.Get(ctx, key).Int()
					if err != nil && err != redis.Nil {
						t.Fatal(err)
					}
					applied += v
					switch {
					case v > 1:
						t.Fatalf("round %d: counter %d = %d: an INCR ran twice (err %v)", round, i, v, errs[i])
					case errs[i] == nil && v != 1:
						t.Fatalf("round %d: counter %d = %d after a success", round, i, v)
					case ops.CodeOf(errs[i]) == ops.CodeConnectionFailed && v != 0:
						t.Fatalf("round %d: counter %d = %d but the call said STORE_CONNECTION_FAILED: %v", round, i, v, errs[i])
					}
				}
				// The proxy counts a command when it reads it: one read after the dropped reply
				// closed the link never reached the server, so sent may exceed applied.
				if applied > sent {
					t.Fatalf("round %d: %d INCRs reached the node, %d applied", round, sent, applied)
				}
				codes := map[ops.Code]int{}
				for _, err := range errs {
					codes[ops.CodeOf(err)]++
				}
				t.Logf("round %d: %d INCRs forwarded, %d applied; outcomes %v", round, sent, applied, codes)
			}
		})
	}
}

// A Batch.Set spanning every primary while one primary cannot be reached (every dial to it is
// refused): the other slots' transactions ran and were applied, so the call must not say
// STORE_CONNECTION_FAILED ("certainly not applied"); it is STORE_OUTCOME_UNKNOWN (partly
// applied).
func TestExactlyOnceReviewClusterBatchSetPartlyAppliedIsNotConnectionFailed(t *testing.T) {
	pc := startProxiedCluster(t)
	ctx := context.Background()
	tags := tagsOnEveryNode(t, pc)
	down := slotOwner(t, pc, keyspace.Slot("{"+tags[0]+"}"))
	var refused atomic.Bool
	var d net.Dialer
	rdb := pc.clientWith(t, func(ctx context.Context, network, addr string) (net.Conn, error) {
		if refused.Load() && addr == pc.proxies[down].Addr {
			return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
		}
		return d.DialContext(ctx, network, addr)
	})
	st, err := client.New().WithService("bp").WithAdapter(client.Redis(rdb)).WithoutRetry().WithoutBreaker().Build()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	must(t, st.KV.Set(ctx, "warm", 1, 0))
	refused.Store(true)
	pc.proxies[down].KillConnections() // the node's pooled connections go: every new one is refused
	var entries []client.BatchEntry
	for _, tag := range tags {
		entries = append(entries, client.BatchEntry{Key: "{" + tag + "}:k", Value: 7})
	}
	setErr := st.Batch.Set(ctx, entries...)
	applied := 0
	for _, tag := range tags {
		if v, err := pc.raw.Get(ctx, "igniter:store:bp:kv:{"+tag+"}:k").Result(); err == nil && v == "7" {
			applied++
		}
	}
	if applied == 0 {
		t.Skipf("no slot was applied (err %v): nothing to check", setErr)
	}
	if ops.CodeOf(setErr) == ops.CodeConnectionFailed || (applied < len(tags) && setErr == nil) {
		t.Fatalf("Batch.Set applied on %d of %d slots: err = %v; STORE_CONNECTION_FAILED says nothing was applied", applied, len(tags), setErr)
	}
	if applied < len(tags) && ops.CodeOf(setErr) != ops.CodeOutcomeUnknown {
		t.Fatalf("Batch.Set applied on %d of %d slots: err = %v, want STORE_OUTCOME_UNKNOWN", applied, len(tags), setErr)
	}
}

// redriveHook refuses every dial to one node once an EVAL/EVALSHA has succeeded on the cluster.
type redriveHook struct{ after func() }

func (redriveHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h redriveHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if err == nil && (cmd.Name() == "evalsha" || cmd.Name() == "eval") {
			h.after()
		}
		return err
	}
}
func (redriveHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// A redrive whose stream and dead-letter stream live on different nodes runs in two steps on a
// cluster: the append script on the stream's node, then XDEL on the dead-letter node. When the
// second step cannot reach its node, the entry is already back in the stream: the call must not
// say STORE_CONNECTION_FAILED ("certainly not applied").
func TestExactlyOnceReviewClusterRedrivePartlyAppliedIsNotConnectionFailed(t *testing.T) {
	pc := startProxiedCluster(t)
	ctx := context.Background()
	stream := ""
	var deadOwner int
	for i := 0; stream == ""; i++ {
		s := fmt.Sprintf("s%d", i)
		o, d := slotOwner(t, pc, keyspace.Slot("igniter:store:rd:streams:"+s)), slotOwner(t, pc, keyspace.Slot("igniter:store:rd:streams:"+s+":dead"))
		if o != d {
			stream, deadOwner = s, d
		}
	}
	var refused atomic.Bool
	var d net.Dialer
	rdb := pc.clientWith(t, func(ctx context.Context, network, addr string) (net.Conn, error) {
		if refused.Load() && addr == pc.proxies[deadOwner].Addr {
			return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
		}
		return d.DialContext(ctx, network, addr)
	})
	st, err := client.New().WithService("rd").WithAdapter(client.Redis(rdb)).WithoutRetry().WithoutBreaker().Build()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Streams.Append(ctx, stream+":dead", streams.DeadLetter{Stream: stream, ID: "1-0", Message: []byte("1")}, streams.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	rdb.AddHook(redriveHook{after: func() {
		if !refused.Swap(true) {
			pc.proxies[deadOwner].KillConnections()
		}
	}})
	_, rerr := st.Streams.Redrive(ctx, stream, streams.RedriveOptions{})
	n, err := pc.raw.XLen(ctx, "igniter:store:rd:streams:"+stream).Result()
	if err != nil {
		t.Fatal(err)
	}
	if !refused.Load() || n != 1 {
		t.Skipf("the append did not run (refused %v, stream length %d, err %v): nothing to check", refused.Load(), n, rerr)
	}
	if rerr == nil || ops.CodeOf(rerr) == ops.CodeConnectionFailed {
		t.Fatalf("redrive appended the entry, then its XDEL could not be sent: err = %v; want STORE_OUTCOME_UNKNOWN", rerr)
	}
}

// retryHook is an application's retry hook that honours go-redis's re-send marker: it sends a
// command that failed on the network once more unless cmd.NoRetry() says it may have run.
type retryHook struct{ resent *atomic.Int64 }

func (retryHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h retryHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		var reply redis.Error
		if err != nil && !errors.As(err, &reply) && !cmd.NoRetry() {
			h.resent.Add(1)
			err = next(ctx, cmd)
		}
		return err
	}
}
func (retryHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// An application's own hook on the ClusterClient that re-sends failed commands sees every store
// command as NoRetry once it may have run: a lost INCR reply is not re-sent through it. (A hook
// that ignores NoRetry is outside the store's reach: see the doc in internal/executor/noretry.go.)
func TestExactlyOnceReviewClusterUserRetryHookSeesNoRetry(t *testing.T) {
	for _, pipelined := range []bool{false, true} {
		t.Run(fmt.Sprintf("Pipelined=%v", pipelined), func(t *testing.T) {
			pc := startProxiedCluster(t)
			ctx := context.Background()
			rdb := pc.clientWith(t, nil)
			var resent atomic.Int64
			rdb.AddHook(retryHook{&resent})
			st := buildStore(t, "uh", rdb, client.Pipelining(client.PipelineOptions{Disabled: !pipelined}))
			must(t, st.KV.Set(ctx, "warm", 1, 0))
			e := lostEnv{proxies: pc.proxies}
			var err error
			if sent := e.dropNext(t, "incr", func() { _, err = st.Counter.Increment(ctx, "n") }); sent != 1 || resent.Load() != 0 {
				t.Fatalf("INCR sent %d times (%d re-sent by the application's hook), want 1 (err %v)", sent, resent.Load(), err)
			}
			if ops.CodeOf(err) != ops.CodeOutcomeUnknown {
				t.Fatalf("err = %v, want STORE_OUTCOME_UNKNOWN", err)
			}
		})
	}
}
