package history_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/internal/faultproxy"
	"github.com/igniter-go/store/internal/history"
	"github.com/igniter-go/store/internal/redistest"
)

// The checker catches a client known to break the counter: plain go-redis with its default
// retries (MaxRetries 3) re-sends an INCRBY whose reply was lost after the server ran it, so the
// add is applied twice and the caller is told it succeeded once. The same workload on go-redis
// with retries off (MaxRetries -1), whose lost replies are errors of unknown outcome, is
// linearizable: the checker does not cry wolf.
func TestHistoryPlantedGoRedisRetriesINCRAfterLostReply(t *testing.T) {
	for _, tc := range []struct {
		name       string
		maxRetries int
		legal      bool
	}{
		{"DefaultRetries", 0, false},
		{"RetriesOff", -1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seed := history.Seed(t)
			srv := redistest.Start(t)
			p := faultproxy.Start(t, srv.Addr)
			rdb := redis.NewClient(&redis.Options{Addr: p.Addr, MaxRetries: tc.maxRetries, PoolSize: 4})
			t.Cleanup(func() { _ = rdb.Close() })

			rec := history.NewRecorder()
			faults := &history.Faults{Proxy: p, Commands: []string{"incrby"}, Rand: rand.New(rand.NewPCG(seed, 0)), Logf: t.Logf}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			clientsDone := make(chan struct{})
			go func() {
				defer close(clientsDone)
				history.Drive(ctx, seed, 3, 1000, history.CounterStep(rec, redisCounter{rdb}, []string{"n"}))
			}()
			faults.RunUntil(ctx, clientsDone, history.LostReply)

			h, st := rec.History(nil)
			res := history.Check(t.Name(), history.CounterModel, h, 30*time.Second)
			adds := 0
			for _, r := range rec.Records() {
				if !r.Input.(history.CounterInput).Get {
					adds++
				}
			}
			t.Logf("%d operations (%+v), faults %v, %d adds sent by the clients, %d INCRBY forwarded to Redis, verdict %s in %v",
				st.Total(), st, faults.Injected(), adds, p.Count("incrby"), res.Verdict, res.Elapsed)
			if faults.Injected()[history.LostReply] == 0 {
				t.Fatal("no reply was lost: the run proves nothing")
			}
			assertVerdict(t, res, tc.legal)
			if !tc.legal && p.Count("incrby") <= adds {
				t.Errorf("the proxy forwarded %d INCRBY for %d adds: go-redis did not re-send", p.Count("incrby"), adds)
			}
		})
	}
}

// The checker catches a cache that never invalidates, in front of the KV register: two
// "processes" each keep their own cache, and one reads its stale copy after the other's write
// was acknowledged. Without the caches the same workload is linearizable.
func TestHistoryPlantedStaleCache(t *testing.T) {
	for _, tc := range []struct {
		name  string
		stale bool
	}{
		{"StaleCache", true},
		{"NoCache", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seed := history.Seed(t)
			srv := redistest.Start(t)
			rdb := srv.Client(t)
			kvs := []history.KVClient{redisKV{rdb}}
			if tc.stale {
				kvs = []history.KVClient{newStaleCache(rdb), newStaleCache(rdb)}
			}
			rec := history.NewRecorder()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			history.Drive(ctx, seed, 4, 150, history.KVStep(rec, []string{"a", "b"}, kvs...))
			h, st := rec.History(nil)
			res := history.Check(t.Name(), history.KVModel, h, 30*time.Second)
			t.Logf("%d operations (%+v), verdict %s in %v", st.Total(), st, res.Verdict, res.Elapsed)
			assertVerdict(t, res, !tc.stale)
		})
	}
}

// assertVerdict fails unless the check's verdict is Ok (legal) or Illegal with the offending
// operations printed (not legal); it logs the report either way.
func assertVerdict(t *testing.T, res history.Result, legal bool) {
	t.Helper()
	if res.Report != "" {
		t.Logf("checker report:\n%s", res.Report)
	}
	switch {
	case legal && res.Verdict != porcupine.Ok:
		t.Fatalf("verdict %s, want Ok", res.Verdict)
	case !legal && res.Verdict != porcupine.Illegal:
		t.Fatalf("verdict %s, want Illegal: the checker missed the planted anomaly", res.Verdict)
	case !legal && !strings.Contains(res.Report, "cannot be placed next"):
		t.Fatalf("the anomaly was found but its operations were not printed:\n%s", res.Report)
	}
}
