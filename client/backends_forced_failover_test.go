package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
)

// A store on a Sentinel failover client keeps working across a forced failover (SENTINEL
// FAILOVER): once the sentinels have switched and the old primary is a replica, the store's calls
// reach the new primary with nothing done by the caller, and what was written before
// (replicated, WAIT) is there. Between the switch and the old primary's demotion Redis itself
// may accept writes on the old primary and then drop them (measured here: one increment); that
// window is Redis's, so the test checks the store from the demotion on.
func TestBackendsSentinelForcedFailover(t *testing.T) {
	t.Cleanup(func() { waitPoolRedialers(t) })
	s := redistest.StartSentinel(t, redistest.SentinelOptions{})
	rdb := s.Client(t)
	st, err := client.New().WithService("api").WithAdapter(client.Redis(rdb)).Build()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ctx := context.Background()
	for i := range 50 {
		if _, err := st.Counter.Increment(ctx, "before"); err != nil {
			t.Fatalf("increment %d: %v", i, err)
		}
	}
	old := s.PrimaryAddr(t)
	if n, err := rdb.Do(ctx, "WAIT", 1, 5000).Int64(); err != nil || n < 1 {
		t.Fatalf("WAIT: %d replicas acknowledged (%v)", n, err)
	}

	// The sentinels' own announcement is the signal that the switch happened.
	sc := redis.NewClient(&redis.Options{Addr: s.SentinelAddrs[0], MaxRetries: -1})
	t.Cleanup(func() { _ = sc.Close() })
	ps := sc.Subscribe(ctx, "+switch-master")
	t.Cleanup(func() { _ = ps.Close() })
	if _, err := ps.Receive(ctx); err != nil { // the subscription's confirmation
		t.Fatal(err)
	}
	if err := sc.Do(ctx, "SENTINEL", "FAILOVER", redistest.SentinelMaster).Err(); err != nil {
		t.Fatalf("SENTINEL FAILOVER: %v", err)
	}
	switched := time.Now()
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := ps.ReceiveMessage(wctx); err != nil {
		t.Fatalf("no +switch-master within 30s: %v", err)
	}
	now := s.PrimaryAddr(t)
	if now == old {
		t.Fatalf("the primary is still %s after the switch", old)
	}
	oldc := redis.NewClient(&redis.Options{Addr: old, MaxRetries: -1})
	t.Cleanup(func() { _ = oldc.Close() })
	for { // the sentinels demote the old primary shortly after the switch; ROLE is the only signal
		role, err := oldc.Do(wctx, "ROLE").Slice()
		if err == nil && len(role) > 0 && role[0] == "slave" {
			break
		}
		if wctx.Err() != nil {
			t.Fatalf("the old primary %s was not demoted within 30s: %v %v", old, role, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	direct := redis.NewClient(&redis.Options{Addr: now, MaxRetries: -1})
	t.Cleanup(func() { _ = direct.Close() })
	base, err := direct.Get(ctx, "igniter:store:api:counter:before").Int64()
	if err != nil || base < 50 {
		t.Fatalf("the new primary holds %d (%v): the 50 replicated increments are lost", base, err)
	}

	// The store recovers by itself: go-redis's failover client follows the sentinels.
	var n int64
	for {
		n, err = st.Counter.Increment(wctx, "before")
		if err == nil {
			break
		}
		if wctx.Err() != nil {
			t.Fatalf("the store did not recover within 30s of the failover: %v", err)
		}
		time.Sleep(20 * time.Millisecond) // polling the operation itself: there is no other signal
	}
	t.Logf("forced failover %s → %s: the store's first success after the demotion %v after SENTINEL FAILOVER", old, now, time.Since(switched).Round(time.Millisecond))
	if n != base+1 {
		t.Fatalf("counter after the failover = %d, want %d (the new primary's %d, plus 1)", n, base+1, base)
	}
	if v, err := direct.Get(ctx, "igniter:store:api:counter:before").Int64(); err != nil || v != n {
		t.Fatalf("the new primary %s holds %d (%v), want %d: the store wrote elsewhere", now, v, err, n)
	}
}
