package history_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/internal/history"
	"github.com/igniter-go/store/nearcache"
)

// The near cache in front of the KV register, writers and readers sharing the store: every read
// through the near cache, every write through the store, under each fault (its own RESP3
// client goes through the same fault proxy and the same reply delayer, so lost replies, killed
// connections, delayed replies and frozen servers hit its tracking connections too). The history
// must be linearizable against the KV model, reads concurrent with the writes included: while a
// write of a key is in flight, or after one whose outcome is unknown, the near cache reads that
// key from Redis (docs/guarantees.md G13).
func TestHistoryNearCacheKVLostReplies(t *testing.T)    { runNearCell(t, history.LostReply) }
func TestHistoryNearCacheKVDelayedReplies(t *testing.T) { runNearCell(t, history.DelayReplies) }
func TestHistoryNearCacheKVFrozenServer(t *testing.T)   { runNearCell(t, history.Freeze) }
func TestHistoryNearCacheKVKilledConnections(t *testing.T) {
	runNearCell(t, history.KillConnections)
}
func TestHistoryNearCacheKVRestart(t *testing.T) { runNearCell(t, history.Restart) }

func runNearCell(t *testing.T, f history.Fault) {
	t.Parallel()
	c := newCell(nil, f)
	tgt := startTarget(t, c.server...)
	near, err := nearcache.New(tgt.Store, nearcache.Options{Redis: &redis.Options{Addr: tgt.Proxy.Addr, PoolSize: cellClients,
		Dialer: tgt.Delayer.Dialer(), ContextTimeoutEnabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = near.Close() })
	c.cell = history.NearKVCell(near)
	r := runRoundOn(t, c, tgt)
	t.Logf("near cache: %+v", near.Stats())
	if near.Stats().Hits == 0 {
		t.Fatal("no read was answered from the near cache: the cell checked the store, not the cache")
	}
	assertVerdict(t, history.Result{Verdict: r.Verdict, Report: r.Report}, true)
}
