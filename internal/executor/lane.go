package executor

import (
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/ops"
)

// lane batches the commands of concurrent callers for one connection's worth of traffic (one
// redis-server, or one cluster node): the store's own half-duplex engine, in place of go-redis's
// deferred autopipeliner (pipeline.go says when each runs).
//
// Batching. One goroutine per lane takes the commands queued as one batch, runs it as one
// go-redis pipeline (Pipeline.Exec: one write, one read, the client's hooks and pool, and on a
// cluster its MOVED/ASK handling and NoRetry), closes the batch's channel to wake its callers, and
// takes the next batch; with nothing queued it sleeps until the next submit. When fewer commands
// are queued than the batch before carried, it first yields once (runtime.Gosched), so that the
// callers that batch woke, runnable by then, submit and ride along: under load the batches stay
// as deep as the callers, at low load nothing waits. There is no goroutine per batch, and no timer
// but, on a client without socket timeouts, the deadline a batch runs under (lane.bound).
//
// What it saves against go-redis's pipeliner (autopipeline.go), per batch: the hand-off from its
// flusher goroutine to a goroutine started for the batch; the wait for the exact count of callers
// the previous batch woke, with a silence timer as its fallback (awaitExpectedArrivals); and a
// goroutine id read with runtime.Stack for its self-deadlock guard (armSelfDeadlockGuard: on every
// batch of a client with a hook, as the store's drop hook is, and once more per node on a
// cluster, 13 % of the client's CPU at 16 callers on a 3-primary cluster). On a cluster its
// batches are by slot range, GOMAXPROCS shards over all nodes, each batch waiting for every node
// it spans; a lane is one node's.
//
// One batch in flight per lane: a command submitted while a batch is unanswered waits in the
// queue, not on the wire. So the drop hook (dropHook, dropClusterHook) still removes a command
// whose caller left before its batch was written, and a batch held at the server (a paused or
// frozen node) holds everything behind it, as before.
type lane struct {
	// exec runs one batch under ctx and sets every command's reply or error.
	exec func(ctx context.Context, cmds []redis.Cmder)
	// max is the most commands one batch takes (PipelineOptions.MaxBatchSize); the commands
	// after it go in the next batch.
	max int
	// bound: the client sets no socket timeout of its own (ReadTimeout or WriteTimeout -1), so
	// a batch runs under the latest deadline of its callers (see laneBatch.deadline); otherwise
	// the client's timeouts bound it and it runs under context.Background, as go-redis's
	// pipeliner runs its batches.
	bound bool

	mu      sync.Mutex
	pending []*laneBatch  // queued batches, oldest first; only the last one takes more commands
	spare   []redis.Cmder // the slice of the batch run last, emptied, for the next new batch
	started bool          // the loop runs: from the first submit on, so an unused lane costs no goroutine
	idle    bool          // the loop waits on wake
	closed  bool
	wake    chan struct{} // capacity 1
	exited  chan struct{} // closed when the loop returns
}

// laneBatch is a batch of commands and its completion: done is closed once every command of it
// has its reply or error.
type laneBatch struct {
	cmds []redis.Cmder
	done chan struct{}
	// deadline is the latest of its callers' deadlines, and endless is set when one had none (on
	// a bound lane only). Once every caller has gone, a batch that still waits for the server —
	// frozen, or a dropped link, on a client without socket timeouts — ends, so the lane goes on
	// (the connection is closed: what was written may have been applied, as its callers were told).
	deadline time.Time
	endless  bool
}

// closedBatch is what a command submitted to a closed lane waits on: it is done at once, the
// command carrying redis.ErrClosed.
var closedBatch = func() *laneBatch {
	b := &laneBatch{done: make(chan struct{})}
	close(b.done)
	return b
}()

// newLane returns a lane whose batches run on exec, at most max commands each, under their
// callers' deadlines when bound. Its goroutine starts with the first submit.
func newLane(max int, bound bool, exec func(ctx context.Context, cmds []redis.Cmder)) *lane {
	return &lane{exec: exec, max: max, bound: bound, wake: make(chan struct{}, 1), exited: make(chan struct{})}
}

// submit queues cmd, whose caller waits under ctx, and returns the batch it completes with.
func (l *lane) submit(ctx context.Context, cmd redis.Cmder) *laneBatch {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		cmd.SetErr(redis.ErrClosed)
		return closedBatch
	}
	var b *laneBatch
	if n := len(l.pending); n > 0 && len(l.pending[n-1].cmds) < l.max {
		b = l.pending[n-1]
	} else {
		b = &laneBatch{cmds: l.spare, done: make(chan struct{})}
		l.spare = nil
		l.pending = append(l.pending, b)
	}
	b.cmds = append(b.cmds, cmd)
	if l.bound {
		if d, ok := ctx.Deadline(); !ok {
			b.endless = true
		} else if d.After(b.deadline) {
			b.deadline = d
		}
	}
	wake := l.idle
	l.idle = false
	if !l.started {
		l.started = true
		go l.loop()
	}
	l.mu.Unlock()
	if wake {
		l.wake <- struct{}{}
	}
	return b
}

// loop runs the queued batches one at a time until the lane is closed and nothing is queued.
func (l *lane) loop() {
	defer close(l.exited)
	last := 0 // commands in the batch before
	var ran []redis.Cmder
	for {
		l.mu.Lock()
		if ran != nil && l.spare == nil {
			l.spare, ran = ran, nil
		}
		for len(l.pending) == 0 {
			if l.closed {
				l.mu.Unlock()
				return
			}
			l.idle = true
			l.mu.Unlock()
			<-l.wake
			l.mu.Lock()
		}
		if len(l.pending) == 1 && len(l.pending[0].cmds) < last {
			// Fewer commands queued than the last batch carried: its callers, woken by its
			// close and runnable now, are likely still on their way. Yield once so the ones the
			// scheduler can run submit first; one that cannot run is not waited for.
			l.mu.Unlock()
			runtime.Gosched()
			l.mu.Lock()
		}
		b := l.pending[0]
		l.pending[0] = nil
		l.pending = l.pending[1:]
		l.mu.Unlock()

		l.run(b)
		last = len(b.cmds)
		close(b.done)
		// Its callers read only done: the slice goes to the next batch, emptied.
		clear(b.cmds)
		ran, b.cmds = b.cmds[:0], nil
	}
}

// run executes one batch. The application's ClusterClient hooks (AddHook) run inside it, on the
// lane's goroutine; a panic there is recovered and the lane goes on. The panic may come before
// the batch was written or after its replies were read, and a command's reply does not say which
// (a successful one has no error), so every command of the batch without an error gets
// STORE_OUTCOME_UNKNOWN wrapping the STORE_CALLBACK_PANIC: it may have run, and is never re-sent
// (G1). Hooks added with OnNewNode run on goroutines go-redis starts per node and are out of the
// store's reach: a panic there is not recovered (docs/guarantees.md, G20).
func (l *lane) run(b *laneBatch) {
	ctx, cmds := context.Background(), b.cmds
	if l.bound && !b.endless && !b.deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, b.deadline)
		defer cancel()
	}
	if err := ops.Recover("store.pipeline", func() { l.exec(ctx, cmds) }); err != nil {
		unknown := ops.NewError(ops.CodeOutcomeUnknown, "store.pipeline",
			"a go-redis hook panicked while the batch ran: the command may or may not have been applied", err)
		for _, c := range cmds {
			if c.Err() == nil {
				c.SetErr(unknown)
			}
		}
	}
}

// close stops the lane once the commands already queued have run, and waits for that.
func (l *lane) close() {
	if l.stop() {
		<-l.exited
	}
}

// stop makes the lane refuse new commands and end once those already queued have run; it does not
// wait. It reports whether the lane's goroutine runs (then exited is closed when it ends).
func (l *lane) stop() (started bool) {
	l.mu.Lock()
	first := !l.closed
	l.closed = true
	wake := first && l.idle
	l.idle = false
	started = l.started
	l.mu.Unlock()
	if wake {
		l.wake <- struct{}{}
	}
	return started
}

// waitContext waits for b, or for ctx; it returns cmd's error, or ctx's.
func (b *laneBatch) waitContext(ctx context.Context, cmd redis.Cmder) error {
	select {
	case <-b.done:
		return cmd.Err()
	default:
	}
	select {
	case <-b.done:
		return cmd.Err()
	case <-ctx.Done():
		return ctx.Err()
	}
}
