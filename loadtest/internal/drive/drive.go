package drive

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/igniter-go/store/internal/pause"
	"github.com/igniter-go/store/loadtest/internal/hist"
)

// Worker is one loop's state, handed to every step it runs.
type Worker struct {
	// ID numbers the workers from 0.
	ID int
	// Rand is the worker's own random source.
	Rand *rand.Rand
	// State is the step's own per-worker state (nil at first).
	State any
}

// Step runs one operation and returns its name for the report, and its error.
type Step func(ctx context.Context, w *Worker) (op string, err error)

// Options configure Run. Zero fields mean the documented defaults.
type Options struct {
	// Workers is the number of concurrent loops. Default: 1.
	Workers int
	// Rate is the open loop's total schedule, operations per second, spread evenly over the
	// workers. 0 runs a closed loop.
	Rate float64
	// Warmup runs before measuring and is not recorded. Default: 0.
	Warmup time.Duration
	// Duration is how long to measure. Default (and with Ops set): no limit but ctx.
	Duration time.Duration
	// Ops stops the run after this many measured operations (successes and errors). 0: no limit.
	Ops int64
	// Code names an error for the error counts. Default: err.Error().
	Code func(error) string
	// OnTick, if set, is called after each second is folded in, with the time measured so far.
	OnTick func(measured time.Duration)
	// OnMeasure, if set, is called once when the warm-up ends and measuring begins.
	OnMeasure func()
}

// Grace is how long after the deadline calls that were due before it may still start and
// finish; see Run.
const Grace = time.Second

// Result says how a run went.
type Result struct {
	// Elapsed is the measured time (warm-up excluded).
	Elapsed time.Duration
	// Interrupted is true when ctx ended the run before its duration or op count.
	Interrupted bool
	// Late is, in an open loop, how many calls started more than a millisecond after their
	// scheduled time because their worker was still busy with earlier calls.
	Late int64
}

// Run drives step until the duration or the op count is reached or ctx is done, recording into
// set. It returns when every worker has stopped.
func Run(ctx context.Context, o Options, set *hist.Set, step Step) Result {
	workers := max(o.Workers, 1)
	code := o.Code
	if code == nil {
		code = func(err error) string { return err.Error() }
	}
	start := time.Now()
	measureFrom := start.Add(o.Warmup)
	var deadline time.Time
	if o.Duration > 0 {
		deadline = measureFrom.Add(o.Duration)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()

	var done atomic.Int64 // measured operations
	var late atomic.Int64
	limitHit := atomic.Bool{}
	finish := func(w *Worker, op string, err error, latency, service time.Duration, open bool) {
		switch {
		case err != nil:
			set.Error(w.ID, op, code(err))
		case open:
			set.RecordOpen(w.ID, op, latency, service)
		default:
			set.Record(w.ID, op, latency)
		}
		if o.Ops > 0 && done.Add(1) >= o.Ops {
			limitHit.Store(true)
			stop()
		}
	}
	over := func(t time.Time) bool { return !deadline.IsZero() && !t.Before(deadline) }

	var wg sync.WaitGroup
	for i := range workers {
		w := &Worker{ID: i, Rand: rand.New(rand.NewPCG(uint64(i)+1, uint64(start.UnixNano())))}
		wg.Add(1)
		if o.Rate <= 0 {
			go func() {
				defer wg.Done()
				for runCtx.Err() == nil {
					t0 := time.Now()
					if over(t0) {
						return
					}
					op, err := step(runCtx, w)
					// An error caused by the run's own end is not the target's.
					if !t0.Before(measureFrom) && (err == nil || runCtx.Err() == nil) {
						finish(w, op, err, time.Since(t0), 0, false)
					}
				}
			}()
			continue
		}
		// Open loop: worker i's calls are due at start + offset + k×interval.
		interval := time.Duration(float64(workers) / o.Rate * float64(time.Second))
		offset := time.Duration(i) * interval / time.Duration(workers)
		go func() {
			defer wg.Done()
			for k := int64(0); runCtx.Err() == nil; k++ {
				due := start.Add(offset + time.Duration(k)*interval)
				if over(due) {
					return
				}
				// from is where the call's latency counts from: its due time when the worker
				// was still busy with earlier calls (the target held it up: coordinated
				// omission corrected), or the moment the worker woke when it slept until the
				// call was due (the timer's own lateness, ~1 ms on some kernels, is the
				// harness's, not the target's).
				from := due
				if wait := time.Until(due); wait > 0 {
					if !sleep(runCtx, wait) {
						return
					}
					from = time.Now()
				}
				t0 := time.Now()
				if from.Equal(due) && t0.Sub(due) > time.Millisecond && !due.Before(measureFrom) {
					late.Add(1)
				}
				op, err := step(runCtx, w)
				end := time.Now()
				if !due.Before(measureFrom) && (err == nil || runCtx.Err() == nil) {
					finish(w, op, err, end.Sub(from), end.Sub(t0), true)
				}
			}
		}()
	}

	// The ticker folds each measured second into set.
	tickDone := make(chan struct{})
	go func() {
		defer close(tickDone)
		if !sleep(runCtx, time.Until(measureFrom)) {
			return
		}
		if o.OnMeasure != nil {
			o.OnMeasure()
		}
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case now := <-t.C:
				at := now.Sub(measureFrom)
				set.Tick(at)
				if o.OnTick != nil {
					o.OnTick(at)
				}
			}
		}
	}()
	// No call starts at or after the deadline. Calls due before it still run when the loop is
	// behind (an open loop catching up on a stalled machine), for up to Grace; then the calls
	// still in flight are cancelled, so the run ends even when every worker is stuck.
	if !deadline.IsZero() {
		timer := time.AfterFunc(time.Until(deadline)+Grace, stop)
		defer timer.Stop()
	}
	wg.Wait()
	stop()
	<-tickDone
	end := time.Now()
	// Rates are per measured second: the schedule's, not the grace period's.
	elapsed := max(end.Sub(measureFrom), 0)
	if !deadline.IsZero() {
		elapsed = min(elapsed, o.Duration)
	}
	set.Tick(elapsed)
	return Result{Elapsed: elapsed, Interrupted: ctx.Err() != nil && !limitHit.Load(), Late: late.Load()}
}

// sleep waits d or until ctx is done; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool { return pause.For(ctx, d) == nil }
