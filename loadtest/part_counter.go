package main

import (
	"context"
	"fmt"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/loadtest/internal/drive"
	"github.com/igniter-go/store/ratelimit"
)

// Row names of the rate-limit checks: a check that passed, one that was refused (both
// successes of Limiter.Allow), and a check that failed with an error.
const (
	opAllowed = "ratelimit.allowed"
	opRefused = "ratelimit.refused"
	opAllow   = "ratelimit.allow"
)

// counterPart is per-user API rate limiting with the ratelimit package: each hit is one
// Limiter.Allow (GCRA, one script on the user's counter key) of -limit per second with bursts
// of -limit. Users, -users per tenant, are picked with a Zipf distribution (s = 1.1), as API
// clients are: a few hot users send most of the calls and are refused, most stay under the
// limit, so both paths run at the defaults. Allowed and refused checks are separate rows, and
// the note counts them from those rows.
type counterPart struct {
	limit    ratelimit.Limit
	limiters map[*client.Store]*ratelimit.Limiter // one per tenant store
}

func (p *counterPart) setup(_ context.Context, e *env) error {
	p.limit = ratelimit.PerSecond(e.cfg.limit)
	p.limiters = map[*client.Store]*ratelimit.Limiter{}
	for _, st := range e.st.tenants {
		lim, err := newLimiter(st)
		if err != nil {
			return err
		}
		p.limiters[st] = lim
	}
	return nil
}

// newLimiter is the run's limiter on st, with the package's default key prefix.
func newLimiter(st *client.Store) (*ratelimit.Limiter, error) {
	lim, err := ratelimit.New(st, ratelimit.Options{})
	if err != nil {
		return nil, fmt.Errorf("rate limiter: %w", err)
	}
	return lim, nil
}

func (p *counterPart) stop() {}

// notes counts the checks from the ratelimit.allowed and ratelimit.refused rows, so the note
// and the table agree exactly.
func (p *counterPart) notes(e *env, _ time.Duration) []string {
	allowed, _ := e.set.Count(opAllowed)
	refused, _ := e.set.Count(opRefused)
	_, failed := e.set.Count(opAllow)
	checks := allowed + refused
	if checks == 0 {
		return nil
	}
	line := fmt.Sprintf("rate limit (ratelimit package, GCRA): %d of %d checks refused (%.1f%%) at %d per user per second (bursts of %d), %d users per tenant picked by Zipf (s=1.1)",
		refused, checks, 100*float64(refused)/float64(checks), e.cfg.limit, e.cfg.limit, e.cfg.users)
	if failed > 0 {
		line += fmt.Sprintf("; %d checks failed", failed)
	}
	return []string{line}
}

// user picks the user a hit is for.
func (p *counterPart) user(e *env, w *drive.Worker) string {
	return "user:" + itoa(e.zipfKey(w, e.cfg.users))
}

func (p *counterPart) hit(ctx context.Context, e *env, w *drive.Worker, st *client.Store) (string, error) {
	r, err := p.limiters[st].Allow(ctx, p.user(e, w), p.limit)
	switch {
	case err != nil:
		return opAllow, err
	case r.OK():
		return opAllowed, nil
	}
	return opRefused, nil
}
