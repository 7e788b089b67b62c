package main

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/loadtest/internal/drive"
	"github.com/igniter-go/store/loadtest/internal/hist"
)

// env is what a scenario works with: the settings, the stores and the run's measurements.
type env struct {
	cfg config
	st  *stores
	set *hist.Set
	// nearAddr is the Redis a near cache can track (target.nearCacheAddr): "" on the embedded
	// miniredis or a cluster, where the near-cache part reads through KV.
	nearAddr string
	// measureFrom is when measuring began (unix ns); 0 during the warm-up.
	measureFrom atomic.Int64
	stopped     atomic.Bool
}

// counts reports whether a background measurement of something sent at sent (unix ns) belongs
// to the measured run.
func (e *env) counts(sent int64) bool {
	m := e.measureFrom.Load()
	return m != 0 && sent >= m && !e.stopped.Load()
}

// part is one family of operations: it prepares its data and background loops, runs steps on a
// tenant's store, and adds lines to the report.
type part interface {
	setup(ctx context.Context, e *env) error
	// stop ends the part's background loops and waits for them.
	stop()
	// notes are the part's report lines (delivered/s, lag…).
	notes(e *env, elapsed time.Duration) []string
}

// scenario is a workload: its parts and the step the workers run.
type scenario struct {
	desc  string
	parts []part
	step  drive.Step
}

// workerState is a worker's own key pickers.
type workerState struct {
	zipf map[int]*rand.Zipf // by key count
}

func stateOf(w *drive.Worker) *workerState {
	if s, ok := w.State.(*workerState); ok {
		return s
	}
	s := &workerState{zipf: map[int]*rand.Zipf{}}
	w.State = s
	return s
}

// pickKey returns a key index in [0, n) from the -dist distribution.
func (e *env) pickKey(w *drive.Worker, n int) int {
	if e.cfg.dist != "zipf" {
		return w.Rand.IntN(n)
	}
	return e.zipfKey(w, n)
}

// zipfKey returns an index in [0, n) with a Zipf distribution (s = 1.1): index 0 is the most
// frequent, a few indexes take most picks.
func (e *env) zipfKey(w *drive.Worker, n int) int {
	if n < 2 {
		return 0
	}
	s := stateOf(w)
	z := s.zipf[n]
	if z == nil {
		z = rand.NewZipf(w.Rand, 1.1, 1, uint64(n-1))
		s.zipf[n] = z
	}
	return int(z.Uint64())
}

// tenant returns a random tenant's store.
func (e *env) tenant(w *drive.Worker) *client.Store { return e.st.pick(w.Rand.IntN(len(e.st.tenants))) }

// newScenario builds the -scenario workload.
func newScenario(e *env) *scenario {
	c := e.cfg
	switch c.scenario {
	case "counter":
		p := &counterPart{}
		return &scenario{desc: "per-user rate limiting with the ratelimit package (GCRA, one script per check): -limit per user per second, -users per tenant picked by Zipf, so hot users are refused",
			parts: []part{p}, step: func(ctx context.Context, w *drive.Worker) (string, error) { return p.hit(ctx, e, w, e.tenant(w)) }}
	case "claim":
		p := &claimPart{}
		return &scenario{desc: "lease contention: half Claim.Once+Release, half Claim.Acquire(no wait)+Extend+Release, on -claim-keys names",
			parts: []part{p}, step: func(ctx context.Context, w *drive.Worker) (string, error) {
				if e.cfg.compare || w.Rand.IntN(2) == 0 {
					return p.once(ctx, e, w, e.tenant(w))
				}
				return p.lease(ctx, e, w, e.tenant(w))
			}}
	case "events":
		p := &eventsPart{}
		return &scenario{desc: "pub/sub: publishers × subscribers per tenant, publish→receive latency (events.deliver)",
			parts: []part{p}, step: func(ctx context.Context, w *drive.Worker) (string, error) { return p.publish(ctx, e, w, e.tenant(w)) }}
	case "streams":
		p := &streamsPart{}
		return &scenario{desc: "streams: producers append, one consumer group of -consumers consumers per tenant consumes and acks; end-to-end latency (streams.consume) and lag",
			parts: []part{p}, step: func(ctx context.Context, w *drive.Worker) (string, error) { return p.append(ctx, e, w, e.tenant(w)) }}
	case "mixed":
		return newMixed(e)
	}
	p := &kvPart{}
	return &scenario{desc: "KV.Get / KV.Set of a JSON value", parts: []part{p},
		step: func(ctx context.Context, w *drive.Worker) (string, error) {
			st := e.tenant(w)
			if w.Rand.Float64() < c.reads {
				return p.get(ctx, e, w, st)
			}
			return p.put(ctx, e, w, st)
		}}
}

func itoa(i int) string { return strconv.Itoa(i) }
