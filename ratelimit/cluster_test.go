package ratelimit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ratelimit"
)

// One key per call means the limiter runs on Redis Cluster: limits on keys spread over every
// master each pass their burst and then deny, and every key expires.
func TestGCRAOnCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-master cluster")
	}
	cl := redistest.StartCluster(t, 3)
	rdb := cl.Client(t)
	st, err := client.New().WithService("api").WithAdapter(client.Redis(rdb)).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	lim := newLimiter(t, st, ratelimit.Options{})
	limit := ratelimit.Limit{Rate: 3, Period: time.Minute, Burst: 3}
	masters := map[string]bool{}
	for i := range 12 {
		key := fmt.Sprintf("user_%d", i)
		for j := range 4 {
			r, err := lim.Allow(ctx, key, limit)
			if err != nil {
				t.Fatalf("%s call %d: %v", key, j, err)
			}
			if r.OK() != (j < 3) {
				t.Fatalf("%s call %d: allowed %v", key, j, r.OK())
			}
		}
		full := "igniter:store:api:counter:ratelimit:" + key
		if pttl := rdb.PTTL(ctx, full).Val(); pttl <= 0 {
			t.Fatalf("%s: PTTL %v", key, pttl)
		}
		slot := rdb.ClusterKeySlot(ctx, full).Val()
		masters[fmt.Sprint(slot*3/16384)] = true
	}
	if len(masters) < 2 {
		t.Fatalf("keys landed on %d slot ranges only; the test did not span masters", len(masters))
	}
}
