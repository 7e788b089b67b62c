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
// panics; the panic goes on).
//
// The watchdog extends the lease to its TTL every TTL/3. As soon as an extension finds the lease
// lost (STORE_LEASE_LOST: it expired or someone deleted or took it), or extensions have failed
// (or hung) until less than TTL/3 of the lease may be left, it cancels fn's ctx;
// context.Cause(ctx) is then the STORE_LEASE_LOST error. fn must stop touching what the lease
// guards when its ctx ends. Cancelling the caller's ctx also cancels fn's, but the watchdog keeps
// the lease until fn returns.
//
// Hold returns fn's error, unless the lease was lost: then it returns the STORE_LEASE_LOST error
// (joined with fn's error when fn failed with something other than the cancellation), because
// fn's work may have overlapped another holder's. A failed final release is returned too
// (joined with fn's error).
func (l *Lease) Hold(ctx context.Context, fn func(ctx context.Context) error) error {
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
	defer func() {
		if p := recover(); p != nil {
			_ = release()
			panic(p)
		}
	}()
	err := fn(fnCtx)
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
// An extension runs on its own goroutine (counted in inflight), and the watchdog stops waiting
// for it when less than one interval of the lease may be left: a go-redis client without
// ContextTimeoutEnabled ignores ctx deadlines, so a call on a stalled connection returns only at
// its ReadTimeout (3 s by default), which may be after the lease expired.
func (l *Lease) watch(ctx context.Context, stop <-chan struct{}, inflight *sync.WaitGroup) error {
	interval := max(l.ttl/3, time.Millisecond)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	validUntil := l.acquiredAt.Add(l.ttl) // the lease certainly expires by then unless extended
	for {
		select {
		case <-stop:
			return nil
		case <-tick.C:
		}
		sent := time.Now()
		// Bound the extension so that a hanging Redis still leaves fn one interval, before the
		// lease can expire, to notice its cancelled ctx.
		giveUpAt := validUntil.Add(-interval)
		ectx, cancel := context.WithDeadline(context.WithoutCancel(ctx), giveUpAt)
		ext := make(chan error, 1)
		inflight.Go(func() { ext <- l.Extend(ectx, l.ttl) })
		giveUp := time.NewTimer(time.Until(giveUpAt))
		var err error
		select {
		case err = <-ext:
		case <-giveUp.C:
			err = context.DeadlineExceeded // the extension hangs past its deadline
		case <-stop:
			giveUp.Stop()
			cancel()
			return nil
		}
		giveUp.Stop()
		cancel()
		switch {
		case err == nil:
			validUntil = sent.Add(l.ttl)
			continue
		case errors.Is(err, ops.ErrConflict):
			return err
		case !time.Now().Add(interval).Before(validUntil):
			return executor.ErrLeaseLost(ops.LeaseExtend, err)
		}
	}
}
