package main

import (
	"context"
	"fmt"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/loadtest/internal/drive"
	"github.com/igniter-go/store/ops"
)

// claimPart is lease contention on -claim-keys names: Claim.Once then Release when won, or
// Claim.Acquire (no waiting), Extend and Release when won. A lost race is a success (the
// name is taken), counted separately as *.taken.
type claimPart struct{}

// Row names of the claim operations: won (then released) and found taken.
const (
	opClaimWon   = "claim.once+release"
	opClaimTaken = "claim.taken"
	opLeaseWon   = "lease.acquire+extend+release"
	opLeaseTaken = "lease.taken"
)

func (p *claimPart) setup(context.Context, *env) error { return nil }
func (p *claimPart) stop()                             {}

// notes counts claims from the table's rows, so the two agree exactly: a won claim whose
// release (or extend) failed is an error of its row, and still won.
func (p *claimPart) notes(e *env, _ time.Duration) []string {
	var won, taken int64
	for _, op := range []string{opClaimWon, opLeaseWon} {
		ok, failed := e.set.Count(op)
		won += ok + failed
	}
	for _, op := range []string{opClaimTaken, opLeaseTaken} {
		ok, _ := e.set.Count(op)
		taken += ok
	}
	if won+taken == 0 {
		return nil
	}
	return []string{fmt.Sprintf("contention: %d claims won, %d found taken (%.1f%%)", won, taken, 100*float64(taken)/float64(won+taken))}
}

func (p *claimPart) name(e *env, w *drive.Worker) string {
	return "job:" + itoa(w.Rand.IntN(e.cfg.claimKeys))
}

// once is Claim.Once with a worker-unique owner and, when won, Claim.Release.
func (p *claimPart) once(ctx context.Context, e *env, w *drive.Worker, st *client.Store) (string, error) {
	key, owner := p.name(e, w), "w"+itoa(w.ID)
	ok, err := st.Claim.Once(ctx, key, owner, 5*time.Second)
	if err != nil {
		return "claim.once", err
	}
	if !ok {
		return opClaimTaken, nil
	}
	_, err = st.Claim.Release(ctx, key, owner)
	return opClaimWon, err
}

// lease is Claim.Acquire without waiting and, when won, Lease.Extend and Lease.Release.
func (p *claimPart) lease(ctx context.Context, e *env, w *drive.Worker, st *client.Store) (string, error) {
	l, err := st.Claim.Acquire(ctx, p.name(e, w), 5*time.Second, client.AcquireOptions{})
	if ops.HasCode(err, ops.CodeLeaseNotAcquired) {
		return opLeaseTaken, nil
	}
	if err != nil {
		return "lease.acquire", err
	}
	if err := l.Extend(ctx, 5*time.Second); err != nil {
		_ = l.Release(ctx)
		return opLeaseWon, err
	}
	return opLeaseWon, l.Release(ctx)
}
