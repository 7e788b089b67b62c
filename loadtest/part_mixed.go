package main

import (
	"context"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/loadtest/internal/drive"
)

// mixedOp is one operation of the mixed blend and its weight (percent).
type mixedOp struct {
	weight int
	run    func(ctx context.Context, w *drive.Worker, st *client.Store) (string, error)
}

// newMixed is a service's blend (documented in the README's load-test section): mostly cached
// reads, some writes, rate limiting, batch reads, a little locking, events and stream work,
// with subscribers and a consumer group running in the background.
func newMixed(e *env) *scenario {
	kv, ctr, clm, ev, sm := &kvPart{}, &counterPart{}, &claimPart{}, &eventsPart{}, &streamsPart{}
	nc := &nearPart{kv: kv, addr: e.nearAddr}
	blend := []mixedOp{
		{30, func(ctx context.Context, w *drive.Worker, st *client.Store) (string, error) {
			return kv.get(ctx, e, w, st)
		}},
		{10, func(ctx context.Context, w *drive.Worker, st *client.Store) (string, error) {
			return nc.get(ctx, e, w, st)
		}},
		{12, func(ctx context.Context, w *drive.Worker, st *client.Store) (string, error) {
			return kv.put(ctx, e, w, st)
		}},
		{10, func(ctx context.Context, w *drive.Worker, st *client.Store) (string, error) {
			return ctr.hit(ctx, e, w, st)
		}},
		{6, func(ctx context.Context, w *drive.Worker, st *client.Store) (string, error) {
			return kv.batchGet(ctx, e, w, st)
		}},
		{2, func(ctx context.Context, w *drive.Worker, st *client.Store) (string, error) {
			return kv.batchSet(ctx, e, w, st)
		}},
		{4, func(ctx context.Context, w *drive.Worker, st *client.Store) (string, error) {
			return clm.once(ctx, e, w, st)
		}},
		{2, func(ctx context.Context, w *drive.Worker, st *client.Store) (string, error) {
			return clm.lease(ctx, e, w, st)
		}},
		{12, func(ctx context.Context, w *drive.Worker, st *client.Store) (string, error) {
			return ev.publish(ctx, e, w, st)
		}},
		{12, func(ctx context.Context, w *drive.Worker, st *client.Store) (string, error) {
			return sm.append(ctx, e, w, st)
		}},
	}
	total := 0
	for _, op := range blend {
		total += op.weight
	}
	return &scenario{
		desc:  "30% KV.Get, 10% near-cache read of a hot key (nearcache package; through KV on miniredis or a cluster), 12% KV.Set, 10% rate-limit check (ratelimit package), 6% Batch.Get(5), 2% Batch.Set(5), 4% Claim.Once+Release, 2% lease Acquire+Extend+Release, 12% Events.Publish (with subscribers), 12% Streams.Append (with a consumer group)",
		parts: []part{kv, nc, ctr, clm, ev, sm},
		step: func(ctx context.Context, w *drive.Worker) (string, error) {
			n := w.Rand.IntN(total)
			for _, op := range blend {
				if n < op.weight {
					return op.run(ctx, w, e.tenant(w))
				}
				n -= op.weight
			}
			panic("unreachable")
		},
	}
}
