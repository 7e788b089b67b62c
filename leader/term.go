package leader

import (
	"context"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/ops"
)

// Term is one period of leadership, from a won [Election.Campaign] until it is lost or
// resigned. It is safe for concurrent use.
type Term struct {
	e     *Election
	lease *client.Lease
	ctx   context.Context // fn's ctx inside Lease.Hold: cancelled when the term ends
	end   context.CancelFunc
	done  chan struct{}
	err   error // why the term ended; written before done is closed
}

// begin starts the term's goroutine, on which Lease.Hold keeps the lease alive and runs the
// leader record's upkeep, and returns the term once its record is written. When Hold does not
// run the upkeep at all (the lease may have expired before the acquire's reply arrived: see
// [client.Lease.Hold]) there is no term: begin returns Hold's STORE_LEASE_LOST error.
//
// The goroutine runs user code (the store's middleware, on every extension and record write), so
// it recovers a panic: the term ends (Hold releases the lease first) and [Term.Err] is the
// STORE_CALLBACK_PANIC error; a runtime.Goexit there ends the term the same way.
func (e *Election) begin(ctx context.Context, l *client.Lease) (*Term, error) {
	hctx, end := context.WithCancel(context.WithoutCancel(ctx))
	t := &Term{e: e, lease: l, end: end, done: make(chan struct{})}
	started := make(chan struct{})
	go func() {
		defer close(t.done)
		defer end()
		returned := false
		defer func() {
			if !returned { // user code (a middleware) called runtime.Goexit; Hold released the lease
				t.err = ops.NewError(ops.CodeCallbackPanic, "leader.term",
					"user code called runtime.Goexit on the term's goroutine", nil)
			}
		}()
		perr := ops.Recover("leader.term", func() {
			t.err = l.Hold(hctx, func(fctx context.Context) error {
				t.ctx = fctx
				t.keepRecord(fctx, hctx, started)
				return nil
			})
		})
		returned = true
		if perr != nil {
			t.err = perr
		}
	}()
	select {
	case <-started:
		return t, nil
	case <-t.done:
		select {
		case <-started: // it began and has ended already: still a term
			return t, nil
		default:
			return nil, t.err
		}
	}
}

// keepRecord writes the leader record now, closes started (so Campaign returns with the record
// in place, unless that write failed), and writes it again every TTL/3 until fctx ends. When the term ends
// by resignation (hctx cancelled: the lease is still ours) it removes the record before Hold
// releases the lease; a lost term leaves it, as the next leader may have written it already.
func (t *Term) keepRecord(fctx, hctx context.Context, started chan struct{}) {
	e := t.e
	rec := Record{ID: e.o.ID, Fence: t.lease.Fence()}
	tick := time.NewTicker(max(e.o.TTL/3, time.Millisecond))
	defer tick.Stop()
	for {
		// The record is advisory: a failed write is tried again at the next tick. It is written
		// only while the term's context is live, so only while the lease is certainly held.
		if fctx.Err() == nil {
			_ = e.s.KV.Set(fctx, e.recordKey(), rec, e.o.TTL)
		}
		if started != nil {
			close(started)
			started = nil
		}
		select {
		case <-fctx.Done():
			if hctx.Err() != nil && context.Cause(fctx) == context.Canceled {
				_ = e.s.KV.Remove(context.WithoutCancel(fctx), e.recordKey())
			}
			return
		case <-tick.C:
		}
	}
}

// Fence returns the term's fencing token: larger than the token of every earlier term of this
// election, whoever held it, while Redis keeps the fence counter; after Redis lost it, larger
// within the clock-skew limit of [client.Lease.Fence].
func (t *Term) Fence() int64 { return t.lease.Fence() }

// Context returns a context that is cancelled as soon as the term ends: the lease was lost
// (context.Cause is then the STORE_LEASE_LOST error), the store closed, or the term resigned.
// The lease's watchdog gives up while at least TTL/3 of the lease is certainly left (counted
// from when the last successful acquire or extension was sent, less the drift margin
// TTL/100 + 2 ms), so work bound to this context can stop before another candidate can win,
// as long as Redis keeps the lease: after Redis lost it (restart without persistence, failover,
// FLUSHALL) another candidate can win at once and this context ends only at the next extension
// (due within TTL/3); the fence orders the two terms' writes ([Term.Fence]).
// A term that is not resigned ends only this way: code that holds a term outside
// [Election.Run] should defer [Term.Resign], so a panic does not leave the lease held.
func (t *Term) Context() context.Context { return t.ctx }

// Done is closed when the term has fully ended: its work context cancelled, and the lease
// released (after a resignation) or given up.
func (t *Term) Done() <-chan struct{} { return t.done }

// Err returns why the term ended, once Done is closed: nil after a clean resignation,
// STORE_LEASE_LOST when the lease was lost (it wraps the cause: an extension that failed,
// STORE_CLOSED…), STORE_CALLBACK_PANIC when user code (a store middleware) panicked (or called
// runtime.Goexit) on the term's goroutine, or the error of the final release.
func (t *Term) Err() error {
	select {
	case <-t.done:
		return t.err
	default:
		return nil
	}
}

// Resign ends the term: it cancels the term's context, removes the leader record and releases
// the lease, so another candidate can win at once. It waits until that is done or ctx ends,
// and returns [Term.Err] (nil after a clean resignation). Resigning twice is harmless.
func (t *Term) Resign(ctx context.Context) error {
	t.end()
	select {
	case <-t.done:
		return t.err
	case <-ctx.Done():
		return ctx.Err()
	}
}
