package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/loadtest/internal/drive"
	"github.com/igniter-go/store/ops"
)

// claimPart is lease contention on -claim-keys names: Claim.Once then Release when won, or
// Claim.Acquire (no waiting), Extend and Release when won. A lost race is a success (the
// name is taken), counted separately as *.taken.
type claimPart struct {
	won, taken atomic.Int64
}

func (p *claimPart) setup(context.Context, *env) error { return nil }
func (p *claimPart) stop()                             {}

func (p *claimPart) notes(*env, time.Duration) []string {
	w, t := p.won.Load(), p.taken.Load()
	if w+t == 0 {
		return nil
	}
	return []string{fmt.Sprintf("contention: %d claims won, %d found taken (%.1f%%)", w, t, 100*float64(t)/float64(w+t))}
}

func (p *claimPart) name(e *env, w *drive.Worker) string {
	return "job:" + itoa(w.Rand.IntN(e.cfg.claimKeys))
}

func (p *claimPart) count(e *env, won bool) {
	if e.measureFrom.Load() == 0 {
		return
	}
	if won {
		p.won.Add(1)
	} else {
		p.taken.Add(1)
	}
}

// once is Claim.Once with a worker-unique owner and, when won, Claim.Release.
func (p *claimPart) once(ctx context.Context, e *env, w *drive.Worker, st *client.Store) (string, error) {
	key, owner := p.name(e, w), "w"+itoa(w.ID)
	ok, err := st.Claim.Once(ctx, key, owner, 5*time.Second)
	if err != nil {
		return "claim.once", err
	}
	p.count(e, ok)
	if !ok {
		return "claim.taken", nil
	}
	_, err = st.Claim.Release(ctx, key, owner)
	return "claim.once+release", err
}

// lease is Claim.Acquire without waiting and, when won, Lease.Extend and Lease.Release.
func (p *claimPart) lease(ctx context.Context, e *env, w *drive.Worker, st *client.Store) (string, error) {
	l, err := st.Claim.Acquire(ctx, p.name(e, w), 5*time.Second, client.AcquireOptions{})
	if ops.HasCode(err, ops.CodeLeaseNotAcquired) {
		p.count(e, false)
		return "lease.taken", nil
	}
	if err != nil {
		return "lease.acquire", err
	}
	p.count(e, true)
	if err := l.Extend(ctx, 5*time.Second); err != nil {
		_ = l.Release(ctx)
		return "lease.acquire+extend+release", err
	}
	return "lease.acquire+extend+release", l.Release(ctx)
}
