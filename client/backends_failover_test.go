package client_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/streams"
)

// failoverLoad is paced load of INCRs on one counter and XADDs on one stream (both keys hash to
// one slot: one primary holds both), recording every outcome, and the time of the first success
// of a call started after the kill.
type failoverLoad struct {
	st       *client.Store
	incr     writeTally
	xadd     writeTally
	never    atomic.Int64 // calls refused before reaching Redis (open breaker)
	failed   atomic.Int64 // all failures after the kill
	unexpect atomic.Value

	mu        sync.Mutex
	killedAt  time.Time
	recovered time.Time
	afterOK   int // successes of calls started after the kill
	enough    chan struct{}
}

// writeTally counts the outcomes of one kind of write.
type writeTally struct {
	acked     atomic.Int64 // replies arrived: applied exactly once
	ambiguous atomic.Int64 // failed and may have reached Redis: applied at most once
}

// check fails t unless acknowledged <= stored <= acknowledged + ambiguous.
func (w *writeTally) check(t *testing.T, what string, stored int64) {
	t.Helper()
	acked, amb := w.acked.Load(), w.ambiguous.Load()
	if stored < acked || stored > acked+amb {
		t.Errorf("%s: stored %d outside [acknowledged %d, acknowledged+ambiguous %d]: a write was lost or applied twice", what, stored, acked, acked+amb)
	}
}

func (l *failoverLoad) run(ctx context.Context, workers int, wg *sync.WaitGroup) {
	for w := range workers {
		wg.Go(func() {
			tick := time.NewTicker(2 * time.Millisecond)
			defer tick.Stop()
			for i := w; ; i++ {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				l.mu.Lock()
				started, killed := time.Now(), l.killedAt
				l.mu.Unlock()
				cctx, cancel := context.WithTimeout(ctx, time.Second)
				tally := &l.incr
				var err error
				if i%2 == 0 {
					_, err = l.st.Counter.Increment(cctx, loadKey)
				} else {
					tally = &l.xadd
					_, err = l.st.Streams.Append(cctx, loadKey, i, streams.AppendOptions{})
				}
				cancel()
				l.record(tally, started, killed, err)
			}
		})
	}
}

// loadKey is the counter and stream name of the load; its hash tag puts both in one slot.
const loadKey = "{load}"

func (l *failoverLoad) record(tally *writeTally, started, killed time.Time, err error) {
	switch {
	case err == nil:
		tally.acked.Add(1)
		if killed.IsZero() || started.Before(killed) {
			return
		}
		l.mu.Lock()
		if l.recovered.IsZero() {
			l.recovered = time.Now()
		}
		if l.afterOK++; l.afterOK == 200 {
			close(l.enough)
		}
		l.mu.Unlock()
		return
	case errors.Is(err, ops.ErrRejected): // open breaker: never sent
		l.never.Add(1)
	case errors.Is(err, ops.ErrUnavailable), errors.Is(err, ops.ErrCanceled):
		tally.ambiguous.Add(1) // a refused dial is counted too: an upper bound is what the check needs
	default:
		tally.ambiguous.Add(1)
		l.unexpect.Store(err.Error())
	}
	if !killed.IsZero() {
		l.failed.Add(1)
	}
}

// failoverTopology starts a topology, returns its client, a raw client for checks, and a kill
// function that kills the primary holding key.
type failoverTopology struct {
	name  string
	start func(t *testing.T) (rdb redis.UniversalClient, kill func(t *testing.T, key string) (replicas []string))
}

var failoverTopologies = []failoverTopology{
	{"Cluster", func(t *testing.T) (redis.UniversalClient, func(*testing.T, string) []string) {
		c := redistest.StartClusterWith(t, redistest.ClusterOptions{ReplicasPerPrimary: 1, NodeTimeout: time.Second})
		rdb := c.Client(t)
		return rdb, func(t *testing.T, key string) []string {
			addr, err := rdb.MasterForKey(context.Background(), key)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range c.Nodes {
				if n.Addr == addr.Options().Addr {
					replicas := waitReplicated(t, n.Addr)
					n.Kill()
					return replicas
				}
			}
			t.Fatalf("no node at %s", addr.Options().Addr)
			return nil
		}
	}},
	{"Sentinel", func(t *testing.T) (redis.UniversalClient, func(*testing.T, string) []string) {
		s := redistest.StartSentinel(t, redistest.SentinelOptions{DownAfter: time.Second})
		return s.Client(t), func(t *testing.T, _ string) []string {
			addr := s.PrimaryAddr(t)
			for _, n := range append([]*redistest.Server{s.Primary}, s.Replicas...) {
				if n.Addr == addr {
					replicas := waitReplicated(t, n.Addr)
					n.Kill()
					return replicas
				}
			}
			t.Fatalf("no data node at %s", addr)
			return nil
		}
	}},
}

// TestBackendsFailover kills the primary under INCR load, per topology, with the store's default
// resilience and no action by the caller: calls recover once a replica is promoted (the time from
// the kill to the first success of a call started after it is logged), and the counter and the
// stream each hold at least every acknowledged write and at most those plus the ambiguous ones.
func TestBackendsFailover(t *testing.T) {
	for _, topo := range failoverTopologies {
		t.Run(topo.name, func(t *testing.T) {
			t.Parallel()
			t.Cleanup(func() { waitPoolRedialers(t) }) // runs last, after the clients are closed
			rdb, kill := topo.start(t)
			st, err := client.New().WithService("api").WithAdapter(client.Redis(rdb)).Build()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			const key, stream = "igniter:store:api:counter:" + loadKey, "igniter:store:api:streams:" + loadKey
			l := &failoverLoad{st: st, enough: make(chan struct{})}
			ctx, stop := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			l.run(ctx, 4, &wg)
			for l.incr.acked.Load() < 100 || l.xadd.acked.Load() < 100 { // load is running
				time.Sleep(10 * time.Millisecond)
			}
			replicas := kill(t, key) // returns once the process has exited
			l.mu.Lock()
			l.killedAt = time.Now()
			l.mu.Unlock()
			promoted := watchPromotion(ctx, replicas)
			select {
			case <-l.enough:
			case <-time.After(45 * time.Second): // a guard, not synchronisation
				stop()
				wg.Wait()
				t.Fatalf("no recovery 45s after the kill: %d failures since (last unexpected: %v)", l.failed.Load(), l.unexpect.Load())
			}
			stop()
			wg.Wait()
			l.mu.Lock()
			recovery := l.recovered.Sub(l.killedAt)
			var promotion time.Duration
			if at := <-promoted; !at.IsZero() {
				promotion = at.Sub(l.killedAt)
			}
			l.mu.Unlock()
			counter, err := rdb.Get(context.Background(), key).Int64()
			if err != nil {
				t.Fatal(err)
			}
			entries, err := rdb.XLen(context.Background(), stream).Result()
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s failover: replica promoted %v and the store's calls recovered %v after the primary was killed; "+
				"counter %d (acknowledged %d, ambiguous %d), stream %d entries (acknowledged %d, ambiguous %d); refused by the open breaker %d, failures after the kill %d",
				topo.name, promotion.Round(time.Millisecond), recovery.Round(time.Millisecond),
				counter, l.incr.acked.Load(), l.incr.ambiguous.Load(), entries, l.xadd.acked.Load(), l.xadd.ambiguous.Load(),
				l.never.Load(), l.failed.Load())
			l.incr.check(t, "INCR", counter)
			l.xadd.check(t, "XADD", entries)
			if u := l.unexpect.Load(); u != nil {
				t.Logf("a failure outside unavailable/canceled/rejected: %v", u)
			}
		})
	}
}

// waitPoolRedialers waits until go-redis's background re-dial goroutines have ended: a pool that
// failed to dial a dead node keeps one sleeping for up to a second after Close, which goleak
// would report. Polling the stacks is the only signal there is.
func waitPoolRedialers(t *testing.T) {
	deadline := time.Now().Add(5 * time.Second)
	buf := make([]byte, 1<<20)
	for time.Now().Before(deadline) {
		n := runtime.Stack(buf, true)
		if !strings.Contains(string(buf[:n]), "pool.(*ConnPool).tryDial") {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Log("go-redis re-dial goroutines still running 5s after the clients closed")
}

// waitReplicated waits until a replica has acknowledged every write the primary at addr has
// taken (WAIT 1): a replica still in its first sync would be promoted without the data, which
// is Redis losing writes, not the store. Writes after it are replicated on the fly; the
// invariant then checks that none was lost or doubled.
func waitReplicated(t *testing.T, addr string) (replicas []string) {
	t.Helper()
	direct := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer direct.Close()
	deadline := time.Now().Add(15 * time.Second)
	for {
		n, err := direct.Do(context.Background(), "WAIT", 1, 1000).Int64()
		if err == nil && n >= 1 {
			info := direct.Info(context.Background(), "replication").Val()
			for _, line := range strings.Split(info, "\n") {
				// slave0:ip=127.0.0.1,port=6380,state=online,offset=…
				if strings.HasPrefix(line, "slave") && strings.Contains(line, "ip=") {
					var ip, port string
					for _, f := range strings.Split(strings.SplitN(line, ":", 2)[1], ",") {
						k, v, _ := strings.Cut(f, "=")
						switch k {
						case "ip":
							ip = v
						case "port":
							port = v
						}
					}
					replicas = append(replicas, ip+":"+port)
				}
			}
			return replicas
		}
		if time.Now().After(deadline) {
			t.Fatalf("no replica of %s acknowledged the writes within 15s: %d %v", addr, n, err)
		}
	}
}

// watchPromotion polls the replicas' ROLE every 5ms until one is a primary, and sends the time
// it saw that (zero if ctx ends first). Polling is the only signal a test has of a promotion.
func watchPromotion(ctx context.Context, replicas []string) <-chan time.Time {
	out := make(chan time.Time, 1)
	go func() {
		clients := make([]*redis.Client, len(replicas))
		for i, a := range replicas {
			clients[i] = redis.NewClient(&redis.Options{Addr: a, MaxRetries: -1})
			defer clients[i].Close()
		}
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			for _, c := range clients {
				if v, err := c.Do(ctx, "ROLE").Slice(); err == nil && len(v) > 0 && v[0] == "master" {
					out <- time.Now()
					return
				}
			}
			select {
			case <-ctx.Done():
				out <- time.Time{}
				return
			case <-tick.C:
			}
		}
	}()
	return out
}
