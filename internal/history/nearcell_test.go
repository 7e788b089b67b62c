package history_test

import (
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/internal/history"
	"github.com/igniter-go/store/nearcache"
)

// The near cache in front of the KV register, writers and readers sharing the store: every read
// through the near cache, every write through the store, under each fault (its own RESP3
// client goes through the same fault proxy, so lost replies, killed connections and frozen
// servers hit its tracking connections too). The linearizable KV model is checked first; the
// near cache is not linearizable while a write through its own store is in flight (reads
// concurrent with it may see the new value and then the old one, RELIABILITY.md), so an illegal
// history passes only if it is linearizable without the reads that overlapped a write of their key:
// the documented promise, that a read beginning after a write's acknowledgement never returns the
// value it replaced.
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
	near, err := nearcache.New(tgt.Store, nearcache.Options{Redis: &redis.Options{Addr: tgt.Proxy.Addr, PoolSize: cellClients,
		ContextTimeoutEnabled: true}})
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
	if r.Verdict == porcupine.Illegal {
		h, _ := r.Rec.History(history.Classify)
		documented := history.Check(t.Name(), history.KVModel, withoutReadsDuringWrites(r.Rec.Records(), h), 30*time.Second)
		if documented.Verdict == porcupine.Ok {
			t.Logf("not linearizable while writes were in flight (documented), linearizable without the reads that overlapped them:\n%s", r.Report)
			return
		}
		t.Logf("without the reads that overlapped a write:\n%s", documented.Report)
	}
	assertVerdict(t, history.Result{Verdict: r.Verdict, Report: r.Report}, true)
}

// withoutReadsDuringWrites drops from h the gets that overlapped, in real time, a set or delete
// of the same key (from its call to its return, whatever its outcome: the store drops the
// near-cache entry when the write returns).
func withoutReadsDuringWrites(recs []history.Record, h []porcupine.Operation) []porcupine.Operation {
	type span struct{ call, ret int64 }
	writes := map[string][]span{}
	byID := map[int]history.Record{}
	for _, rec := range recs {
		byID[rec.ID] = rec
		in, ok := rec.Input.(history.KVInput)
		if !ok || in.Op == history.KVGet {
			continue
		}
		ret := rec.Return
		if ret < 0 { // still in flight when the round ended
			ret = 1<<63 - 1
		}
		writes[in.Key] = append(writes[in.Key], span{rec.Call, ret})
	}
	out := make([]porcupine.Operation, 0, len(h))
	for _, op := range h {
		rec := byID[op.Metadata.(int)]
		in, ok := rec.Input.(history.KVInput)
		overlapped := false
		if ok && in.Op == history.KVGet {
			for _, w := range writes[in.Key] {
				if w.call < rec.Return && rec.Call < w.ret {
					overlapped = true
					break
				}
			}
		}
		if !overlapped {
			out = append(out, op)
		}
	}
	return out
}
