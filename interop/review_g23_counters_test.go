package interop_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/faultproxy"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
)

// TestReviewG23CounterLostReplies: Go increments a counter through a proxy that drops the reply
// of an INCR now and then (closing that connection, which also fails whatever else the store's
// pipeline had on it), while Node increments the same counter. Every value INCR returned must be
// returned once across both languages; every Go failure must be STORE_OUTCOME_UNKNOWN or a
// failure that proves nothing ran; the total must be Node's changes plus Go's acknowledged ones
// plus at most the unknown ones (nothing re-sent, nothing applied twice).
func TestReviewG23CounterLostReplies(t *testing.T) {
	bin := needNode(t)
	srv := redistest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p := faultproxy.Start(t, srv.Addr)
	// The breaker would turn most calls after a few drops into "not sent": off, so every call
	// goes to Redis (the retry middleware stays on, and must not re-send an INCR).
	st := newStoreAt(t, p.Addr, func(b *client.Builder) *client.Builder { return b.WithoutBreaker() })
	raw := srv.Client(t)
	const (
		nodeN   = 3000
		goN     = 3000
		workers = 8
		drops   = 10
	)

	node := startG23Node(t, bin, srv.Addr, `
  const values = [];
  let next = 0;
  const loop = async () => { while (next < args.n) { next++; values.push(await store.counter.increment("lr")); } };
  await Promise.all(Array.from({ length: 16 }, loop));
  out({ values });
`, map[string]any{"n": nodeN})

	// Re-arm the drop each time it fires, drops times.
	var dropped int
	dropCtx, stopDrops := context.WithCancel(ctx)
	defer stopDrops()
	dropDone := make(chan struct{})
	go func() {
		defer close(dropDone)
		for dropped < drops {
			fired := p.DropReplyTo("incr")
			select {
			case <-fired:
				dropped++
			case <-dropCtx.Done():
				return
			}
		}
	}()

	var mu sync.Mutex
	var goValues []int64
	var unknown, otherErr int
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < goN; i += workers {
				v, err := st.Counter.Increment(ctx, "lr")
				mu.Lock()
				switch {
				case err == nil:
					goValues = append(goValues, v)
				case errors.Is(err, &ops.Error{Code: ops.CodeOutcomeUnknown}):
					unknown++
				default:
					otherErr++
					if otherErr <= 3 {
						t.Logf("increment: %v", err)
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	stopDrops()
	<-dropDone
	p.Disarm()
	cancelWait, stopWait := context.WithTimeout(ctx, 30*time.Second)
	defer stopWait()
	var nv struct{ Values []int64 }
	node.next(cancelWait, t, &nv)

	total, err := raw.Get(ctx, "igniter:store:"+service+":counter:lr").Int64()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]string{}
	for _, v := range goValues {
		if by, dup := seen[v]; dup {
			t.Errorf("value %d returned twice (go and %s)", v, by)
		}
		seen[v] = "go"
	}
	for _, v := range nv.Values {
		if by, dup := seen[v]; dup {
			t.Errorf("value %d returned twice (node and %s)", v, by)
		}
		seen[v] = "node"
	}
	acked := int64(len(goValues) + len(nv.Values))
	if total < acked || total > acked+int64(unknown) {
		t.Errorf("total %d: acknowledged %d (go %d, node %d), unknown %d, other failures %d: want acked ≤ total ≤ acked+unknown",
			total, acked, len(goValues), len(nv.Values), unknown, otherErr)
	}
	if n := int64(p.Count("incr")); n < total-int64(len(nv.Values)) || n > goN {
		// The proxy counts what it read from Go (a command read as it closed a connection may not
		// reach Redis): Go's changes ≤ forwarded ≤ calls, or something was sent twice.
		t.Errorf("the proxy forwarded %d Go INCRs, the counter holds %d Go changes", n, total-int64(len(nv.Values)))
	}
	if dropped == 0 {
		t.Error("no reply was dropped: the attack did not run")
	}
	t.Logf("drops %d; go acked %d, unknown %d, other failures %d; node %d; total %d", dropped, len(goValues), unknown, otherErr, len(nv.Values), total)
}

// TestReviewG23TornNodeBatchWithTTL asserts the narrowed promise (docs/interop.md): batch reads
// are never torn for Node batches without a ttl. The original's batch.set writes the entries
// without a ttl in one MSET and those with one in a separate, non-transactional pipeline of
// SET … EX after it, so a reader may see the ttl part of a batch half done. Node writes t:0…t:9
// (t:5…t:9 with ttl) in rounds while Go reads all ten with Batch.Get: the MSET part (t:0…t:4)
// must show one round in every read; how many reads saw the whole batch torn is logged only.
func TestReviewG23TornNodeBatchWithTTL(t *testing.T) {
	bin := needNode(t)
	srv := redistest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st := newStore(t, srv)
	const rounds = 500
	keys := make([]string, 10)
	for i := range keys {
		keys[i] = "t:" + string(rune('0'+i))
	}
	node := startG23Node(t, bin, srv.Addr, `
  out({ started: true });
  for (let r = 1; r <= args.rounds; r++) {
    await store.batch.set(args.keys.map((key, i) => (i < 5 ? { key, value: { round: r } } : { key, value: { round: r }, ttl: 60 })));
  }
  out({ done: true });
`, map[string]any{"keys": keys, "rounds": rounds})
	node.next(ctx, t, nil)

	done := make(chan struct{})
	go func() {
		var m struct{ Done bool }
		node.next(ctx, t, &m)
		close(done)
	}()
	reads, torn, msetTorn := 0, 0, 0
	var example, msetExample []float64
	for {
		select {
		case <-done:
		default:
			items, err := st.Batch.Get(ctx, keys...)
			if err != nil {
				t.Fatal(err)
			}
			reads++
			var rs []float64
			for _, it := range items {
				r := -1.0
				if m, ok := it.Value.(map[string]any); ok {
					r, _ = m["round"].(float64)
				}
				rs = append(rs, r)
			}
			for _, r := range rs[1:5] { // the MSET part: never torn
				if r != rs[0] {
					msetTorn++
					if msetExample == nil {
						msetExample = rs
					}
					break
				}
			}
			for _, r := range rs[1:] {
				if r != rs[0] {
					torn++
					if example == nil || (slices.Contains(example, -1) && !slices.Contains(rs, -1)) {
						example = rs // prefer a read of two rounds over one of the first round half written
					}
					break
				}
			}
			continue
		}
		break
	}
	t.Logf("%d Go batch reads during %d Node batch writes with TTLs: %d saw the whole batch torn, information only "+
		"(e.g. rounds %v); %d saw the MSET part torn", reads, rounds, torn, example, msetTorn)
	if reads == 0 {
		t.Fatal("Go read nothing while Node wrote")
	}
	if msetTorn > 0 {
		t.Errorf("%d of %d Go batch reads saw the MSET part (t:0…t:4, no ttl) of a Node batch half written (rounds per key %v)",
			msetTorn, reads, msetExample)
	}
}
