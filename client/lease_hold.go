package client

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/igniter-go/store/internal/executor"
	"github.com/igniter-go/store/ops"
)

// Hold acquires a lease on key for ttl (one attempt, as [Claim.Acquire] with zero options), runs
// fn while holding it, and releases it; see [Lease.Hold]. A held key is
// STORE_LEASE_NOT_ACQUIRED, and fn does not run. To wait for the key, Acquire with
// [AcquireOptions.Wait] and call Hold on the lease.
func (c Claim) Hold(ctx context.Context, key string, ttl time.Duration, fn func(ctx context.Context) error) error {
	l, err := c.Acquire(ctx, key, ttl, AcquireOptions{})
	if err != nil {
		return err
	}
	return l.Hold(ctx, fn)
}

// Hold runs fn while a watchdog keeps the lease alive, then releases the lease (also when fn
// panics, the panic goes on, or calls runtime.Goexit).
//
// How long the lease is certainly held is counted from when its acquire (or its last successful
// extension) was sent, not from when the reply came: Redis set the expiry at some moment in
// between. From that send time the store counts the TTL less a drift margin of TTL/100 + 2 ms,
// for Redis's clock running faster than this process's. Hold runs fn only while at least TTL/3
// of that is left: a lease whose acquire reply came later (a slow network, a GC pause) may
// already have expired and been taken by another owner, so Hold does not call fn, releases the
// lease if it is still this one's, and returns STORE_LEASE_LOST. (A TTL under about 4 ms leaves
// no such time at all: Hold then never runs fn.)
//
// The watchdog extends the lease to its TTL every TTL/3, counted from when the acquire (then the
// last successful extension) was sent, so at once when Hold begins later than that; a failed
// extension is tried again TTL/9 later. As soon as an extension finds the lease
// lost (STORE_LEASE_LOST: it expired or someone deleted or took it), or extensions have failed
// (or hung) until less than TTL/3 of the lease may be left, it cancels fn's ctx;
// context.Cause(ctx) is then the STORE_LEASE_LOST error. fn must stop touching what the lease
// guards when its ctx ends. Cancelling the caller's ctx also cancels fn's, but the watchdog keeps
// the lease until fn returns. An extension that panics (in a user middleware) counts as a failed
// extension; the panic is kept as STORE_CALLBACK_PANIC in the cause.
//
// Hold returns fn's error, unless the lease was lost: then it returns the STORE_LEASE_LOST error
// (joined with fn's error when fn failed with something other than the cancellation), because
// fn's work may have overlapped another holder's. A failed final release is returned too
// (joined with fn's error).
func (l *Lease) Hold(ctx context.Context, fn func(ctx context.Context) error) error {
	if !time.Now().Add(extendInterval(l.ttl)).Before(l.validUntil()) {
		// Release even when the caller's ctx has ended; a lease already taken by another owner
		// is STORE_LEASE_LOST and stays theirs (compare-and-delete).
		relErr := l.Release(context.WithoutCancel(ctx))
		return ops.NewError(ops.CodeLeaseLost, ops.LeaseAcquire.Operation(),
			"the lease may have expired before its acquire's reply arrived: less than TTL/3 of it is certainly left", relErr)
	}
	fnCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop, done := make(chan struct{}), make(chan struct{})
	var lost error // written by the watchdog before it closes done
	var inflight sync.WaitGroup
	go func() {
		defer close(done)
		if lost = l.watch(ctx, stop, &inflight); lost != nil {
			cancel(lost)
		}
	}()
	release := func() error {
		close(stop)
		<-done
		// Release even when the caller's ctx has ended: the key must not stay held until expiry.
		err := l.Release(context.WithoutCancel(ctx))
		inflight.Wait() // an extension the watchdog stopped waiting for
		return err
	}
	returned := false
	defer func() {
		if returned {
			return
		}
		// fn panicked or called runtime.Goexit: release, then let the panic (or exit) go on.
		p := recover()
		_ = release()
		if p != nil {
			panic(p)
		}
	}()
	err := fn(fnCtx)
	returned = true
	relErr := release()
	if lost != nil {
		if err != nil && !errors.Is(err, context.Canceled) {
			return errors.Join(lost, err)
		}
		return lost
	}
	switch {
	case relErr == nil:
		return err
	case err == nil:
		return relErr
	}
	return errors.Join(err, relErr)
}

// watch extends the lease every TTL/3 until stop is closed, and returns the error that ends
// ownership: STORE_LEASE_LOST from an extension, or a STORE_LEASE_LOST wrapping the last failure
// when no extension succeeded in time to be sure the lease is still held. nil when stopped.
//
// Every time is counted from sends: the first extension is due one interval after the acquire
// was sent (at once when Hold began later than that), each next one an interval after the last
// successful extension was sent. A failed extension is tried again after a third of an interval.
// The watchdog gives up at the give-up point, when only one interval of the lease is certainly
// left (validUntil less one interval), whatever is in flight, so fn has that interval to notice
// its cancelled ctx before the lease can expire.
//
// An extension runs on its own goroutine (counted in inflight), and the watchdog stops waiting
// for it at the give-up point: a go-redis client without ContextTimeoutEnabled ignores ctx
// deadlines, so a call on a stalled connection returns only at its ReadTimeout (3 s by default),
// which may be after the lease expired.
func (l *Lease) watch(ctx context.Context, stop <-chan struct{}, inflight *sync.WaitGroup) error {
	interval := extendInterval(l.ttl)
	validUntil := l.validUntil() // the lease is certainly held until then, unless extended (or deleted)
	next := l.acquiredAt.Add(interval)
	var lastErr error = context.DeadlineExceeded
	for {
		giveUpAt := validUntil.Add(-interval)
		wake := next
		if giveUpAt.Before(wake) {
			wake = giveUpAt
		}
		wait := time.NewTimer(time.Until(wake))
		select {
		case <-stop:
			wait.Stop()
			return nil
		case <-wait.C:
		}
		sent := time.Now()
		if !sent.Before(giveUpAt) {
			return executor.ErrLeaseLost(ops.LeaseExtend, lastErr)
		}
		ectx, cancel := context.WithDeadline(context.WithoutCancel(ctx), giveUpAt)
		ext := make(chan error, 1)
		inflight.Go(func() {
			var err error
			if p := ops.Recover(ops.LeaseExtend.Operation(), func() { err = l.Extend(ectx, l.ttl) }); p != nil {
				err = p // a user middleware panicked: a failed extension, reported in the cause
			}
			ext <- err
		})
		giveUp := time.NewTimer(time.Until(giveUpAt))
		var err error
		select {
		case err = <-ext:
		case <-giveUp.C:
			err = context.DeadlineExceeded // the extension hangs past the give-up point
		case <-stop:
			giveUp.Stop()
			cancel()
			return nil
		}
		giveUp.Stop()
		cancel()
		switch {
		case err == nil:
			validUntil = sent.Add(l.ttl - leaseDrift(l.ttl))
			next = sent.Add(interval)
			continue
		case errors.Is(err, ops.ErrConflict):
			return err
		case !time.Now().Before(giveUpAt):
			return executor.ErrLeaseLost(ops.LeaseExtend, err)
		}
		lastErr = err
		next = time.Now().Add(interval / 3)
	}
}

// leaseDrift is the margin taken off a lease's TTL when the store decides how long the lease is
// certainly held: TTL/100 + 2 ms, for a Redis clock that runs faster than this process's and for
// Redis's millisecond expiry.
func leaseDrift(ttl time.Duration) time.Duration { return ttl/100 + 2*time.Millisecond }

// extendInterval is how often the watchdog extends a lease, and how much of it must certainly be
// left for fn to run: TTL/3.
func extendInterval(ttl time.Duration) time.Duration { return max(ttl/3, time.Millisecond) }

// validUntil is when the lease, as acquired, may expire: the acquire's send time plus the TTL,
// less the drift margin.
func (l *Lease) validUntil() time.Time { return l.acquiredAt.Add(l.ttl - leaseDrift(l.ttl)) }
