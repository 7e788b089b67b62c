package history_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/internal/history"
	"github.com/igniter-go/store/nearcache"
)

// The near cache in front of the KV register, writers and readers sharing the store: every read
// through the near cache, every write through the store, under each fault (its own RESP3
// client goes through the same fault proxy, so lost replies, killed connections and frozen
// servers hit its tracking connections too). The linearizable KV model must hold.
func TestHistoryNearCacheKVLostReplies(t *testing.T)  { runNearCell(t, history.LostReply) }
func TestHistoryNearCacheKVFrozenServer(t *testing.T) { runNearCell(t, history.Freeze) }
func TestHistoryNearCacheKVKilledConnections(t *testing.T) {
	runNearCell(t, history.KillConnections)
}
func TestHistoryNearCacheKVRestart(t *testing.T) { runNearCell(t, history.Restart) }

func runNearCell(t *testing.T, f history.Fault) {
	t.Parallel()
	c := newCell(nil, f)
	tgt := startTarget(t, c.server...)
	var hits uint64
	near, err := nearcache.New(tgt.Store, nearcache.Options{Redis: &redis.Options{Addr: tgt.Proxy.Addr, PoolSize: cellClients,
		ContextTimeoutEnabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = near.Close() })
	c.cell = history.NearKVCell(near)
	r := runRoundOn(t, c, tgt)
	hits = near.Stats().Hits
	t.Logf("near cache: %+v", near.Stats())
	if hits == 0 {
		t.Fatal("no read was answered from the near cache: the cell checked the store, not the cache")
	}
	assertVerdict(t, history.Result{Verdict: r.Verdict, Report: r.Report}, true)
}
