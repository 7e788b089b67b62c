package ratelimit_test

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/ratelimit"
	"github.com/igniter-go/store/storetest"
)

// 8 store instances (each its own go-redis client, as 8 processes would be) × 32 goroutines
// hammer one limit of 100/s for 3 s. GCRA's bound: over an interval d, at most Burst + Rate·d
// pass. The interval is measured on the client around every call, so it contains the server's
// (the script uses the server's clock). With continuous demand the limiter must also not starve
// callers: at least Rate·d − Burst pass. Afterwards every key the limiters wrote has an expiry.
func TestGCRAAcrossInstancesStaysWithinTheBound(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	const instances, workers = 8, 32
	limit := ratelimit.PerSecond(100)
	var (
		allowed, denied, errs atomic.Int64
		wg                    sync.WaitGroup
		start                 = make(chan struct{})
	)
	stores := make([]*client.Store, instances)
	for i := range stores {
		stores[i] = storetest.Connect(t, srv.Client(t), client.New().WithService("api"))
	}
	// A second tenant's limiter runs beside, so the TTL check sees keys of several scopes.
	other := newLimiter(t, stores[0].MustScope("organization", "org_2"), ratelimit.Options{})
	if _, err := other.AllowN(ctx, "export", ratelimit.PerMinute(5), 2); err != nil {
		t.Fatal(err)
	}
	for i := range stores {
		lim := newLimiter(t, stores[i].MustScope("organization", "org_1"), ratelimit.Options{})
		for range workers {
			wg.Go(func() {
				<-start
				deadline := time.Now().Add(3 * time.Second)
				for time.Now().Before(deadline) {
					r, err := lim.Allow(ctx, "checkout", limit)
					switch {
					case err != nil:
						errs.Add(1)
					case r.OK():
						allowed.Add(1)
					default:
						denied.Add(1)
						if r.RetryAfter <= 0 || r.RetryAfter > time.Second/time.Duration(limit.Rate) {
							t.Errorf("a denied call's RetryAfter is %v, want (0, 10ms]", r.RetryAfter)
						}
					}
				}
			})
		}
	}
	began := time.Now()
	close(start)
	wg.Wait()
	elapsed := time.Since(began)
	if errs.Load() > 0 {
		t.Fatalf("%d calls failed", errs.Load())
	}
	upper := limit.Burst + int64(math.Ceil(float64(limit.Rate)*elapsed.Seconds()/limit.Period.Seconds())) + 1
	lower := int64(float64(limit.Rate)*elapsed.Seconds()) - limit.Burst
	t.Logf("allowed %d, denied %d in %v (bound [%d, %d])", allowed.Load(), denied.Load(), elapsed, lower, upper)
	if got := allowed.Load(); got > upper || got < lower {
		t.Fatalf("allowed %d in %v, want within GCRA's bound [%d, %d]", got, elapsed, lower, upper)
	}
	if denied.Load() == 0 {
		t.Fatal("nothing was denied: the load did not exceed the limit, the test proves nothing")
	}

	raw := srv.Client(t)
	keys, err := raw.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{
		"igniter:store:api:organization:org_1:counter:ratelimit:checkout": false,
		"igniter:store:api:organization:org_2:counter:ratelimit:export":   false,
	}
	for _, k := range keys {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected key %q", k)
			continue
		}
		want[k] = true
		if pttl := raw.PTTL(ctx, k).Val(); pttl <= 0 {
			t.Errorf("key %q has PTTL %v: every limiter key must expire", k, pttl)
		}
	}
	for k, seen := range want {
		if !seen {
			t.Errorf("key %q was not written", k)
		}
	}
}

// The reply's numbers follow GCRA exactly on a quiet key: a burst passes, the next call is told
// when to retry, and waiting that long lets it pass.
func TestGCRARepliesOnARealServer(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	st := storetest.Connect(t, srv.Client(t), client.New().WithService("api"))
	lim := newLimiter(t, st, ratelimit.Options{Prefix: "rl"})
	limit := ratelimit.Limit{Rate: 20, Period: time.Second, Burst: 2} // one unit per 50ms
	for i := range 2 {
		if r, err := lim.Allow(ctx, "k", limit); err != nil || !r.OK() || r.Remaining != int64(1-i) {
			t.Fatalf("call %d: %+v, %v", i, r, err)
		}
	}
	r, err := lim.Allow(ctx, "k", limit)
	if err != nil || r.OK() || r.RetryAfter <= 0 || r.RetryAfter > 50*time.Millisecond || r.ResetAfter <= 50*time.Millisecond || r.ResetAfter > 100*time.Millisecond {
		t.Fatalf("third call: %+v, %v", r, err)
	}
	if r, err := lim.AllowN(ctx, "k", limit, 3); !ops.HasCode(err, ops.CodeConfigurationInvalid) || r.OK() {
		t.Fatalf("a cost above the burst can never pass, so it is an error: %+v, %v", r, err)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if r, err := lim.Wait(wctx, "k", limit); err != nil || !r.OK() {
		t.Fatalf("Wait: %+v, %v", r, err)
	}
	if pttl := srv.Client(t).PTTL(ctx, "igniter:store:api:counter:rl:k").Val(); pttl <= 0 || pttl > 100*time.Millisecond {
		t.Fatalf("PTTL %v, want (0, 100ms]", pttl)
	}
}
