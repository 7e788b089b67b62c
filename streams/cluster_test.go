package streams_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/streams"
)

// TestStreamsOnACluster: on a real 3-master Redis Cluster, streams whose keys live on different
// nodes are appended, consumed and acked; blocking reads run on a cluster client of their own,
// so a KV.Get returns while one blocks; Close ends it all.
func TestStreamsOnACluster(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	c := redistest.StartCluster(t, 3)
	st, err := client.New().WithService("api").WithAdapter(client.Redis(c.Client(t))).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	names := []string{"a", "b", "c", "d"}
	const perStream = 50
	for _, s := range names {
		for i := range perStream {
			if _, err := st.Streams.Append(ctx, s, i, streams.AppendOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	g := st.Streams.Group("g", "c1")
	if err := g.Ensure(ctx, "idle", streams.EnsureOptions{}); err != nil {
		t.Fatal(err)
	}
	readDone := make(chan error, 1)
	go func() {
		_, err := g.Read(ctx, "idle", streams.ReadOptions{Block: 2 * time.Second})
		readDone <- err
	}()
	waitClusterBlocked(t, c)
	var v string
	if _, err := st.KV.Get(ctx, "k", &v); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-readDone:
		t.Fatalf("the blocking read ended (%v) before the Get returned", err)
	default:
	}

	cctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[string]int{}
	all := make(chan struct{})
	var once sync.Once
	for _, s := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := streams.ConsumeAs(cctx, g, s, func(_ context.Context, m streams.Message[int]) error {
				mu.Lock()
				defer mu.Unlock()
				got[fmt.Sprint(s, m.Message)]++
				if len(got) == len(names)*perStream {
					once.Do(func() { close(all) })
				}
				return nil
			}, streams.ConsumeOptions{Concurrency: 2, Block: 50 * time.Millisecond, LagInterval: -1})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	select {
	case <-all:
	case <-time.After(30 * time.Second): // a guard, not synchronisation
		t.Fatalf("consumed %d of %d entries", len(got), len(names)*perStream)
	}
	cancel()
	wg.Wait()
	for _, s := range names {
		if lag, err := g.Lag(ctx, s); err != nil || lag.Pending != 0 || lag.Lag != 0 {
			t.Fatalf("%s: lag %+v %v", s, lag, err)
		}
	}
	if err := <-readDone; err != nil {
		t.Fatal(err)
	}
}

// waitClusterBlocked waits until one node of the cluster reports a client blocked in a command.
func waitClusterBlocked(t *testing.T, c *redistest.Cluster) {
	t.Helper()
	clients := make([]*redis.Client, len(c.Nodes))
	for i, n := range c.Nodes {
		clients[i] = n.Client(t)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		total := 0
		for _, rc := range clients {
			total += streamBlockedClients(t, rc)
		}
		if total == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d clients blocked, want 1", total)
		}
		time.Sleep(time.Millisecond) // polling the servers' state: there is no signal to wait on
	}
}
