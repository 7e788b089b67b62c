package interop_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
)

// TestClaimsAcrossLanguages has Node and Go owners contend for the same three claims for a few
// seconds: claim.once (Claim.Once in Go, with and without a TTL), then a release by the owner
// (Claim.Release in Go; in Node, which has no release, the same compare-and-delete on the
// original's claim key). Each holder marks a side key in Redis with SET NX when it gets the claim
// and checks it across round trips until it releases: a second holder at once would find the
// mark taken or see it change. Losers now and then try to release the claim with their own
// owner, which must never delete it.
func TestClaimsAcrossLanguages(t *testing.T) {
	bin := needNode(t)
	srv := redistest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const (
		run     = 3 * time.Second
		workers = 4 // per language
	)
	keys := []string{"job:0", "job:1", "job:2"}
	raw := srv.Client(t)
	st := newStore(t, srv)
	n := startNode(t, bin, srv.Addr, "claims")

	type nodeStats struct {
		Acquired       int      `json:"acquired"`
		Contended      int      `json:"contended"`
		Violations     []string `json:"violations"`
		ForeignRefused int      `json:"foreignRefused"`
		Handovers      int      `json:"handovers"`
		Released       int      `json:"released"`
	}
	nodeCall := n.start(map[string]any{"cmd": "claims", "keys": keys, "owners": workers, "ms": run.Milliseconds(), "name": "a"}, nil)

	var acquired, contended, foreignRefused, handovers, released atomic.Int64
	var vmu sync.Mutex
	var violations []string
	violate := func(format string, args ...any) {
		vmu.Lock()
		violations = append(violations, fmt.Sprintf(format, args...))
		vmu.Unlock()
	}
	deadline := time.Now().Add(run)
	var wg sync.WaitGroup
	for w := range workers {
		owner := fmt.Sprintf("go-%d", w)
		wg.Go(func() {
			for i := 1; time.Now().Before(deadline); i++ {
				key := keys[rand.IntN(len(keys))]
				ttl := time.Duration(0)
				if i%2 == 0 {
					ttl = 30 * time.Second
				}
				side := "interop:side:" + key
				ok, err := st.Claim.Once(ctx, key, owner, ttl)
				if err != nil {
					t.Errorf("%s: Once: %v", owner, err)
					return
				}
				if !ok {
					contended.Add(1)
					if i%4 == 0 {
						gone, err := st.Claim.Release(ctx, key, owner)
						switch {
						case gone:
							violate("%s released %s, which it did not hold", owner, key)
						case err == nil || errors.Is(err, &ops.Error{Code: ops.CodeClaimNotOwner}):
							foreignRefused.Add(1)
						default:
							t.Errorf("%s: foreign Release: %v", owner, err)
						}
					}
					continue
				}
				acquired.Add(1)
				if prev, err := raw.GetSet(ctx, "interop:last:"+key, owner).Result(); err == nil && strings.HasPrefix(prev, "node-") {
					handovers.Add(1)
				} else if err != nil && err != redis.Nil {
					t.Errorf("%s: %v", owner, err)
				}
				if set, err := raw.SetNX(ctx, side, owner, 0).Result(); err != nil || !set {
					violate("%s holds %s but the side key is %q (%v)", owner, key, raw.Get(ctx, side).Val(), err)
				}
				for range 2 {
					if v := raw.Get(ctx, side).Val(); v != owner {
						violate("%s holds %s but the side key became %q", owner, key, v)
					}
				}
				if n, err := raw.Eval(ctx, `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`, []string{side}, owner).Int(); err != nil || n != 1 {
					violate("%s lost its side key of %s (%v)", owner, key, err)
				}
				if ok, err := st.Claim.Release(ctx, key, owner); err != nil || !ok {
					violate("%s's release of %s: %v %v", owner, key, ok, err)
				} else {
					released.Add(1)
				}
			}
		})
	}
	wg.Wait()
	var ns nodeStats
	res, err := nodeCall.wait(ctx)
	if err == nil {
		err = json.Unmarshal(res, &ns)
	}
	if err != nil {
		t.Fatalf("node claims: %v", err)
	}

	for i, v := range append(violations, ns.Violations...) {
		if i == 10 {
			t.Errorf("… %d violations in all", len(violations)+len(ns.Violations))
			break
		}
		t.Error(v)
	}
	// Every claim was released by its owner: nothing is left.
	for _, k := range keys {
		if n, err := raw.Exists(ctx, "igniter:store:"+service+":claim:"+k, "interop:side:"+k).Result(); err != nil || n != 0 {
			t.Errorf("%s: %d keys left after the run (%v)", k, n, err)
		}
	}
	// The languages really contended: each took claims, and the claims passed between them.
	if acquired.Load() == 0 || ns.Acquired == 0 || handovers.Load() == 0 || ns.Handovers == 0 {
		t.Errorf("no contention across languages: Go acquired %d (%d from Node), Node %d (%d from Go)",
			acquired.Load(), handovers.Load(), ns.Acquired, ns.Handovers)
	}
	if int64(ns.Released) != int64(ns.Acquired) || released.Load() != acquired.Load() {
		t.Errorf("releases: Node %d of %d, Go %d of %d", ns.Released, ns.Acquired, released.Load(), acquired.Load())
	}

	report(t, "%d claim attempts on %d claims in %s by %d Node + %d Go owners: %d acquired by Node, %d by Go, "+
		"%d contended (claim.once refused: Node %d, Go %d), %d handovers between languages; 0 overlapping holders; "+
		"%d releases by the owner, all succeeded; %d releases by a non-owner, all refused",
		ns.Acquired+ns.Contended+int(acquired.Load()+contended.Load()), len(keys), run, workers, workers,
		ns.Acquired, acquired.Load(), ns.Contended+int(contended.Load()), ns.Contended, contended.Load(),
		ns.Handovers+int(handovers.Load()), ns.Released+int(released.Load()), ns.ForeignRefused+int(foreignRefused.Load()))
}
