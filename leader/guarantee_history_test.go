package leader_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/internal/faultproxy"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/leader"
)

// historyTerm is one term as its candidate saw it: from Campaign's return to the moment its
// work had to stop (its context ended, or just before it resigned).
type historyTerm struct {
	id         string
	fence      int64
	start, end time.Time
}

// Three candidates campaign, lead, resign or lose their terms for a few seconds while faults hit
// each one's connection (lost and held replies of the lease scripts, killed connections) and the
// Redis server itself (frozen with SIGSTOP for up to a TTL). Redis keeps its data, so the
// package's promises apply in full: no two terms overlap (a term's work has stopped before the
// next term begins) and fences strictly increase in the order the terms began.
func TestLeaderGuaranteeHistoryUnderFaultsHasNoOverlapAndIncreasingFences(t *testing.T) {
	const ttl, run = 600 * time.Millisecond, 6 * time.Second
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	srv := redistest.Start(t)
	ids := []string{"a", "b", "c"}
	proxies := make([]*faultproxy.Proxy, len(ids))
	cands := make([]*leader.Election, len(ids))
	for i, id := range ids {
		proxies[i] = faultproxy.Start(t, srv.Addr)
		c := newCandidateWith(t, &redis.Options{Addr: proxies[i].Addr}, id)
		el, err := leader.New(c.st, "history", leader.Options{TTL: ttl, ID: id})
		if err != nil {
			t.Fatal(err)
		}
		cands[i] = el
	}

	ctx, cancel := context.WithTimeout(context.Background(), run)
	defer cancel()
	var mu sync.Mutex
	var history []historyTerm
	var wg sync.WaitGroup
	for i, el := range cands {
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		wg.Go(func() {
			for ctx.Err() == nil {
				term, err := el.Campaign(ctx)
				if err != nil {
					continue // cancelled at the end, or a fault: campaign again
				}
				h := historyTerm{id: el.ID(), fence: term.Fence(), start: time.Now()}
				ended := make(chan time.Time, 1)
				stopWatch := context.AfterFunc(term.Context(), func() { ended <- time.Now() })
				hold := time.NewTimer(time.Duration(rng.Int64N(int64(2 * ttl))))
				select {
				case <-hold.C: // resign: the work stops first
					if stopWatch() {
						h.end = time.Now()
					} else {
						h.end = <-ended
					}
				case h.end = <-ended: // lost
				case <-ctx.Done():
					if stopWatch() {
						h.end = time.Now()
					} else {
						h.end = <-ended
					}
				}
				hold.Stop()
				_ = term.Resign(context.Background())
				mu.Lock()
				history = append(history, h)
				mu.Unlock()
			}
		})
	}

	rng := rand.New(rand.NewPCG(seed, 99))
	faults := 0
	for ctx.Err() == nil {
		pause := time.NewTimer(time.Duration(rng.Int64N(int64(ttl))))
		select {
		case <-ctx.Done():
		case <-pause.C:
		}
		pause.Stop()
		if ctx.Err() != nil {
			break
		}
		p := proxies[rng.IntN(len(proxies))]
		faults++
		switch rng.IntN(4) {
		case 0:
			p.DropReplyTo("evalsha")
		case 1:
			p.KillConnections()
		case 2:
			_, release := p.HoldReplyTo("evalsha")
			time.AfterFunc(time.Duration(rng.Int64N(int64(ttl))), release)
		case 3:
			srv.Freeze()
			time.Sleep(time.Duration(rng.Int64N(int64(ttl)))) // the fault: Redis frozen this long
			srv.Thaw()
		}
	}
	wg.Wait()
	for _, p := range proxies {
		p.Disarm()
	}

	slices.SortFunc(history, func(x, y historyTerm) int { return x.start.Compare(y.start) })
	t.Logf("%d terms under %d faults", len(history), faults)
	if len(history) < 3 {
		t.Fatalf("only %d terms in %v: the history proves little", len(history), run)
	}
	for i := 1; i < len(history); i++ {
		prev, cur := history[i-1], history[i]
		if cur.start.Before(prev.end) {
			t.Errorf("terms overlap: %s (fence %d) until %v, %s (fence %d) from %v",
				prev.id, prev.fence, prev.end.Format("15:04:05.000"), cur.id, cur.fence, cur.start.Format("15:04:05.000"))
		}
		if cur.fence <= prev.fence {
			t.Errorf("fences out of order: %s %d then %s %d", prev.id, prev.fence, cur.id, cur.fence)
		}
	}
}
