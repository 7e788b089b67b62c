package cache

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/pause"
	"github.com/igniter-go/store/ops"
)

// The operations that name the cache's failures in coded errors.
const (
	operation               = "cache.getOrLoad"
	newOperation            = "cache.new"              // New's option checks
	loadOperation           = "cache.load"             // a panicking loader
	refreshOperation        = "cache.refresh"          // a panic elsewhere in a background refresh
	onRefreshErrorOperation = "cache.on_refresh_error" // a panicking OnRefreshError
	logOperation            = "cache.log"              // a panicking log handler
)

// entry is what the cache stores under a key.
type entry[T any] struct {
	V  T     `json:"v"`
	D  int64 `json:"d"`            // how long the load took, µs (XFetch's delta)
	F  int64 `json:"f"`            // fresh until, unix ms
	NF bool  `json:"nf,omitempty"` // the loader said not found
}

func (e *entry[T]) result() (T, error) {
	if e.NF {
		var zero T
		return zero, ErrNotFound
	}
	return e.V, nil
}

// GetOrLoad returns the value cached under key, or calls load to get it and caches it for ttl.
// Concurrent callers of one key share one load: within the process through the Cache's
// singleflight group, across instances through a claim on the key that the loading instance
// renews for as long as load runs (the others wait for the value, see [Options.WaitTimeout]). A
// caller whose ctx ends stops waiting with STORE_CANCELED or STORE_TIMEOUT; the shared load goes
// on for the others, its ctx ending WaitTimeout + LeaseTTL after it started.
//
// load's errors are returned wrapped (STORE_OPERATION_FAILED; errors.Is finds them) and never
// cached; a load returning [ErrNotFound] makes GetOrLoad return an error matching ErrNotFound,
// cached for [Options.NegativeTTL]. A load that panics gives every caller waiting for it
// STORE_CALLBACK_PANIC (errors.As finds an *ops.PanicValue with the value and stack); nothing is
// cached, and the next call loads again. A stored value that does not decode into T is treated as
// absent and replaced.
//
// ttl must be positive and at most [client.MaxTTL] − [Options.StaleFor], the longest TTL the
// store can give the Redis key (STORE_TTL_INVALID, before any call to Redis or the loader).
func GetOrLoad[T any](ctx context.Context, c *Cache, key string, ttl time.Duration, load func(context.Context) (T, error)) (T, error) {
	var zero T
	sh := c.shared
	o := &sh.opts
	switch {
	case key == "":
		return zero, ops.Invalid(ops.CodeKeyRequired, operation, "Key is required", nil)
	case ttl <= 0 || ttl > client.MaxTTL-o.StaleFor:
		return zero, ops.Invalid(ops.CodeTTLInvalid, operation, "A cache TTL must be positive and at most client.MaxTTL − StaleFor ("+
			(client.MaxTTL-o.StaleFor).String()+"), got "+ttl.String(), map[string]any{"ttl": ttl.String()})
	case load == nil:
		return zero, ops.Invalid(ops.CodeValueRequired, operation, "A loader is required", nil)
	}
	ck := o.Prefix + ":" + key
	e, found, err := read[T](ctx, c, ck)
	if err != nil {
		return zero, err
	}
	if found {
		now := o.Now()
		nowMs := now.UnixMilli()
		switch {
		case nowMs < e.F:
			sh.stats.hits.Add(1)
			if o.Beta > 0 && !e.NF && xfetch(now, e, o) && refresh(ctx, c, ck, ttl, load) {
				sh.stats.early.Add(1)
			}
			return e.result()
		case o.StaleFor > 0 && !e.NF && nowMs < e.F+o.StaleFor.Milliseconds():
			sh.stats.hits.Add(1)
			sh.stats.stale.Add(1)
			refresh(ctx, c, ck, ttl, load)
			return e.result()
		}
	}
	sh.stats.misses.Add(1)
	// singleflight runs this on a goroutine of its own and re-panics a panic there, where no
	// caller can recover it: nothing may panic out of it.
	ch := sh.group.DoChan(c.store.Prefix()+"\x00"+ck, func() (v any, err error) {
		lctx, cancel := loadContext(ctx, o)
		defer cancel()
		if perr := ops.Recover(operation, func() { v, err = fill(lctx, c, ck, ttl, load) }); perr != nil {
			return nil, perr
		}
		return v, err
	})
	select {
	case <-ctx.Done():
		return zero, ops.Failure(ops.KVGet, ops.ErrCanceled, ctx.Err())
	case r := <-ch:
		if r.Err != nil {
			return zero, r.Err
		}
		e, ok := r.Val.(*entry[T])
		if !ok {
			return zero, ops.Invalid(ops.CodeConfigurationInvalid, operation, "GetOrLoad was called on one key with two value types at once", nil)
		}
		return e.result()
	}
}

// loadContext is the ctx of a shared load: the caller's values, not its cancellation (other
// callers wait for the load too), ending WaitTimeout + LeaseTTL from now.
func loadContext(ctx context.Context, o *Options) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), o.WaitTimeout+o.LeaseTTL)
}

// xfetch reports whether a hit should refresh early: now − δ·β·ln(U) ≥ expiry.
func xfetch[T any](now time.Time, e *entry[T], o *Options) bool {
	u := 1 - o.Random() // (0, 1]
	early := -float64(e.D) * o.Beta * math.Log(u)
	return float64(now.UnixMicro())+early >= float64(e.F)*1000
}

// read returns the entry under ck. Data that is not an entry (another writer's) is absent.
func read[T any](ctx context.Context, c *Cache, ck string) (*entry[T], bool, error) {
	var e entry[T]
	found, err := c.store.KV.Get(ctx, ck, &e)
	if ops.HasCode(err, ops.CodeDeserializationFailed) || found && e.F == 0 {
		return nil, false, nil
	}
	if err != nil || !found {
		return nil, false, err
	}
	return &e, true, nil
}

// usable reports whether a cached entry may answer a waiting miss.
func usable[T any](e *entry[T], o *Options) bool {
	limit := e.F
	if !e.NF {
		limit += o.StaleFor.Milliseconds()
	}
	return o.Now().UnixMilli() < limit
}

// claim takes the load claim on ck: a lease for LeaseTTL without a fencing counter (nothing but
// the expiring claim key is written), nil when another instance holds it.
func claim(ctx context.Context, c *Cache, ck string) (*client.Lease, error) {
	return c.store.Claim.TryLease(ctx, ck, c.shared.opts.LeaseTTL)
}

// fill loads ck once across instances: it takes the claim on ck and loads, or waits (capped,
// jittered exponential backoff) for the holder's value, and loads itself after WaitTimeout.
func fill[T any](ctx context.Context, c *Cache, ck string, ttl time.Duration, load func(context.Context) (T, error)) (*entry[T], error) {
	sh := c.shared
	o := &sh.opts
	deadline := time.Now().Add(o.WaitTimeout)
	backoff := o.PollMin
	for waited := false; ; waited = true {
		l, err := claim(ctx, c, ck)
		if err != nil {
			return nil, err
		}
		if l != nil {
			// Double-check: another instance may have stored the value and released its claim
			// between our miss and our claim.
			if e, found, err := read[T](ctx, c, ck); err == nil && found && usable(e, o) {
				if err := l.Release(ctx); err != nil {
					c.report(err)
				}
				return e, nil
			}
			if e, err := loadHolding(ctx, c, ck, ttl, load, l); !errors.Is(err, errNotHeld) {
				return e, err
			}
			// The claim's reply came too late to be sure it was still held: Hold released it
			// without loading. Wait as if another instance held it.
		}
		if !waited {
			sh.stats.waits.Add(1)
		}
		if time.Now().After(deadline) {
			sh.stats.waitTimeouts.Add(1)
			return loadAndStore(ctx, c, ck, ttl, load)
		}
		if err := pause.For(ctx, pause.Jitter(backoff)); err != nil {
			return nil, ops.Failure(ops.KVGet, ops.ErrCanceled, err)
		}
		backoff = min(2*backoff, o.PollMax)
		e, found, err := read[T](ctx, c, ck)
		if err != nil {
			return nil, err
		}
		if found && usable(e, o) {
			return e, nil
		}
	}
}

// errNotHeld marks a claim that Lease.Hold refused to load under (see loadHolding).
var errNotHeld = errors.New("cache: the claim was won too late to be held")

// loadHolding loads and stores ck while holding the claim l: [client.Lease.Hold] renews it every
// LeaseTTL/3 until the load returns, then releases it. If the claim is lost meanwhile (Redis
// unreachable for most of a LeaseTTL, or the key deleted), the load's ctx is canceled with
// STORE_LEASE_LOST as its cause: another instance may be loading. A value loaded all the same is
// returned, the lost claim or a failed release only reported: they delay or duplicate a load, they
// do not make the value wrong.
//
// When Hold does not call the loader at all (the claim's reply came so late that the claim may
// already have expired), it returns errNotHeld, wrapping Hold's STORE_LEASE_LOST.
func loadHolding[T any](ctx context.Context, c *Cache, ck string, ttl time.Duration, load func(context.Context) (T, error), l *client.Lease) (*entry[T], error) {
	var e *entry[T]
	ran := false
	err := l.Hold(ctx, func(ctx context.Context) (err error) {
		ran = true
		e, err = loadAndStore(ctx, c, ck, ttl, load)
		return err
	})
	if !ran {
		return nil, fmt.Errorf("%w: %w", errNotHeld, err)
	}
	if e == nil {
		return nil, err
	}
	if err != nil {
		c.report(err)
	}
	return e, nil
}

// loadAndStore calls load and caches what it returns. A panic in load is returned as
// STORE_CALLBACK_PANIC. A failure to write the cache does not fail the load: the value is
// returned and the failure reported as a refresh error.
func loadAndStore[T any](ctx context.Context, c *Cache, ck string, ttl time.Duration, load func(context.Context) (T, error)) (*entry[T], error) {
	sh := c.shared
	o := &sh.opts
	start := time.Now()
	v, err, panicked := callLoad(ctx, load)
	took := time.Since(start)
	sh.stats.loads.Add(1)
	switch {
	case panicked != nil:
		sh.stats.loadErrors.Add(1)
		return nil, panicked
	case err != nil && !errors.Is(err, ErrNotFound):
		sh.stats.loadErrors.Add(1)
		return nil, ops.NewError(ops.CodeOperationFailed, operation, "the cache loader failed", err)
	}
	e := &entry[T]{V: v, D: max(took.Microseconds(), 1)}
	keep := ttl + o.StaleFor
	if err != nil { // not found
		e = &entry[T]{NF: true}
		if o.NegativeTTL <= 0 {
			return e, nil
		}
		ttl, keep = o.NegativeTTL, o.NegativeTTL
	}
	e.F = o.Now().Add(ttl).UnixMilli()
	if err := c.store.KV.Set(ctx, ck, e, keep); err != nil {
		c.report(err)
	}
	return e, nil
}

// errGoexit is the value of the STORE_CALLBACK_PANIC of a loader that called runtime.Goexit.
var errGoexit = errors.New("cache: the loader called runtime.Goexit (t.FailNow or t.Fatal from a loader?)")

// callLoad runs load on a goroutine of its own and returns what it returned, or its panic as
// STORE_CALLBACK_PANIC. A loader that ends its goroutine with runtime.Goexit, which no recover
// sees, ends only that goroutine: it is reported as a panic with errGoexit, instead of unwinding
// the load's goroutine (singleflight's, or a refresh's) past the claim's release and every
// waiter's result, which wedged the key.
func callLoad[T any](ctx context.Context, load func(context.Context) (T, error)) (v T, err error, panicked error) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		returned := false
		defer func() {
			if !returned && panicked == nil {
				panicked = ops.CallbackPanic(loadOperation, errGoexit)
			}
		}()
		panicked = ops.Recover(loadOperation, func() { v, err = load(ctx) })
		returned = true
	}()
	<-done
	return v, err, panicked
}

// refresh reloads ck in the background, unless this process or another instance already is.
// It reports whether a refresh started here. Its failures, a panicking loader's included, go to
// [Options.OnRefreshError].
func refresh[T any](ctx context.Context, c *Cache, ck string, ttl time.Duration, load func(context.Context) (T, error)) bool {
	return c.goBackground(c.store.Prefix()+"\x00"+ck, func() {
		rctx, cancel := loadContext(ctx, &c.shared.opts)
		defer cancel()
		l, err := claim(rctx, c, ck)
		if err != nil {
			c.report(err)
			return
		}
		if l == nil {
			return // another instance is loading it
		}
		if _, err := loadHolding(rctx, c, ck, ttl, load, l); err != nil {
			c.report(err)
		}
	})
}
