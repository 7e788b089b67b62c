package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/loadtest/internal/drive"
)

// counterPart is the rate-limit pattern: a hit increments the user's 1 s window counter
// (Counter.Increment), sets the window's expiry on its first hit (Counter.Expire), and is
// refused above -limit hits in the window. Users are -keys/10 per tenant, picked by -dist.
type counterPart struct {
	users         int
	hits, refused atomic.Int64
}

func (p *counterPart) setup(_ context.Context, e *env) error {
	p.users = max(e.cfg.keys/10, 1)
	return nil
}

func (p *counterPart) stop() {}

func (p *counterPart) notes(e *env, _ time.Duration) []string {
	h := p.hits.Load()
	if h == 0 {
		return nil
	}
	return []string{fmt.Sprintf("rate limit: %d of %d hits refused (%.1f%%) at %d per user per second, %d users per tenant",
		p.refused.Load(), h, 100*float64(p.refused.Load())/float64(h), e.cfg.limit, p.users)}
}

func (p *counterPart) hit(ctx context.Context, e *env, w *drive.Worker, st *client.Store) (string, error) {
	key := "rl:" + itoa(e.pickKey(w, p.users))
	n, err := st.Counter.Increment(ctx, key)
	if err != nil {
		return "counter.hit", err
	}
	if n == 1 {
		if err := st.Counter.Expire(ctx, key, time.Second); err != nil {
			return "counter.hit", err
		}
	}
	if e.measureFrom.Load() != 0 {
		p.hits.Add(1)
		if n > e.cfg.limit {
			p.refused.Add(1)
		}
	}
	return "counter.hit", nil
}
