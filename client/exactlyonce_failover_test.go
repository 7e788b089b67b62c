package client_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/streams"
)

// Item 2: after the primary holding a stream is killed, a consume loop (blocking reads on the
// blocking-read pool's own ClusterClient) recovers once a replica is promoted, as appends do,
// instead of dialling the dead primary until go-redis's periodic slot-map reload (about 60 s).
// The times from the kill to the first append and to the first delivery of an entry appended
// after the kill are logged; the bound (30 s) is a guard well under the periodic reload, not a
// performance figure.
func TestExactlyOnceClusterFailoverConsumeRecovers(t *testing.T) {
	st, g, primary := startFailoverStream(t, "fo")
	ctx, stop := context.WithCancel(context.Background())
	defer stop()

	var (
		seq       atomic.Int64 // last value appended
		killSeq   atomic.Int64 // values above it were appended after the kill
		mu        sync.Mutex
		killedAt  time.Time
		appendsAt time.Time // first append started after the kill that succeeded
		consumeAt time.Time // first delivery of an entry appended after the kill
		consumed  = make(chan struct{})
		ready     = make(chan struct{}, 1)
		wg        sync.WaitGroup
	)
	killSeq.Store(1 << 62)
	wg.Go(func() { // appender
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			n := seq.Load() + 1
			after := n > killSeq.Load()
			cctx, cancel := context.WithTimeout(ctx, time.Second)
			_, err := st.Streams.Append(cctx, loadKey, n, streams.AppendOptions{})
			cancel()
			if err == nil {
				seq.Store(n)
				mu.Lock()
				if after && appendsAt.IsZero() {
					appendsAt = time.Now()
				}
				mu.Unlock()
			}
		}
	})
	wg.Go(func() { // consume loop
		for ctx.Err() == nil {
			entries, err := g.Read(ctx, loadKey, streams.ReadOptions{Count: 100, Block: 200 * time.Millisecond})
			if err != nil {
				continue
			}
			for _, e := range entries {
				select {
				case ready <- struct{}{}:
				default:
				}
				n, _ := strconv.ParseInt(string(e.Message), 10, 64)
				if n > killSeq.Load() {
					mu.Lock()
					if consumeAt.IsZero() {
						consumeAt = time.Now()
						close(consumed)
					}
					mu.Unlock()
				}
			}
		}
	})
	<-ready // the loop consumes
	victim := primary(ctx)
	replicas := waitReplicated(t, victim.Addr)
	killSeq.Store(seq.Load())
	victim.Kill()
	mu.Lock()
	killedAt = time.Now()
	mu.Unlock()
	promoted := watchPromotion(ctx, replicas)
	select {
	case <-consumed:
	case <-time.After(30 * time.Second): // a guard well under go-redis's 60 s periodic reload
		stop()
		wg.Wait()
		t.Fatalf("the consume loop delivered nothing appended after the kill within 30s (appends recovered: %v)", !appendsAt.IsZero())
	}
	stop()
	wg.Wait()
	var promotion time.Duration
	if at := <-promoted; !at.IsZero() {
		promotion = at.Sub(killedAt)
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("cluster failover: replica promoted %v after the kill; appends recovered %v, the consume loop %v",
		promotion.Round(time.Millisecond), appendsAt.Sub(killedAt).Round(time.Millisecond), consumeAt.Sub(killedAt).Round(time.Millisecond))
}

// startFailoverStream is the set-up of the stream failover tests: a store named service on a
// cluster of one replica per primary (NodeTimeout 1 s), on a client that never retries, with
// group g/c1 ensured on loadKey. primary returns the node that holds the stream now.
func startFailoverStream(t *testing.T, service string) (st *client.Store, g streams.Group, primary func(context.Context) *redistest.Server) {
	t.Helper()
	t.Cleanup(func() { waitPoolRedialers(t) })
	c := redistest.StartClusterWith(t, redistest.ClusterOptions{ReplicasPerPrimary: 1, NodeTimeout: time.Second})
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs, MaxRetries: -1, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = rdb.Close() })
	st, err := client.New().WithService(service).WithAdapter(client.Redis(rdb)).Build()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	g = st.Streams.Group("g", "c1")
	must(t, g.Ensure(context.Background(), loadKey, streams.EnsureOptions{}))
	return st, g, func(ctx context.Context) *redistest.Server {
		addr, err := rdb.MasterForKey(ctx, "igniter:store:"+service+":streams:"+loadKey)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range c.Nodes {
			if n.Addr == addr.Options().Addr {
				return n
			}
		}
		t.Fatalf("no node at %s", addr.Options().Addr)
		return nil
	}
}
