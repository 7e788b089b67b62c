package leader

import (
	"context"
	"time"

	"github.com/igniter-go/store/client"
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

// begin starts the term's goroutine: Lease.Hold keeps the lease alive and runs the leader
// record's upkeep until the term ends.
func (e *Election) begin(ctx context.Context, l *client.Lease) *Term {
	hctx, end := context.WithCancel(context.WithoutCancel(ctx))
	t := &Term{e: e, lease: l, end: end, done: make(chan struct{})}
	started := make(chan struct{})
	go func() {
		defer close(t.done)
		t.err = l.Hold(hctx, func(fctx context.Context) error {
			t.ctx = fctx
			t.keepRecord(fctx, hctx, started)
			return nil
		})
		end()
	}()
	<-started
	return t
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
		// The record is advisory: a failed write is tried again at the next tick.
		_ = e.s.KV.Set(fctx, e.recordKey(), rec, e.o.TTL)
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
// election, whoever held it. See [client.Lease.Fence].
func (t *Term) Fence() int64 { return t.lease.Fence() }

// Context returns a context that is cancelled as soon as the term ends: the lease was lost
// (context.Cause is then the STORE_LEASE_LOST error), the store closed, or the term resigned.
// The lease's watchdog gives up while at least TTL/3 of the lease may be left, so work bound
// to this context stops before another candidate can win.
func (t *Term) Context() context.Context { return t.ctx }

// Done is closed when the term has fully ended: its work context cancelled, and the lease
// released (after a resignation) or given up.
func (t *Term) Done() <-chan struct{} { return t.done }

// Err returns why the term ended, once Done is closed: nil after a clean resignation,
// STORE_LEASE_LOST when the lease was lost (it wraps the cause: an extension that failed,
// STORE_CLOSED…), or the error of the final release.
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
