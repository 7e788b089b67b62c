package cache

import (
	"context"
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/igniter-go/store/internal/pause"
	"github.com/igniter-go/store/ops"
)

// operation names the cache's failures in coded errors.
const operation = "cache.getOrLoad"

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
// singleflight group, across instances through a claim on the key (the others wait for the
// value, see [Options.WaitTimeout]). A caller whose ctx ends stops waiting with STORE_CANCELED
// or STORE_TIMEOUT; the shared load goes on, bounded by WaitTimeout + LeaseTTL, for the others.
//
// load's errors are returned wrapped (STORE_OPERATION_FAILED; errors.Is finds them) and never
// cached; a load returning [ErrNotFound] makes GetOrLoad return an error matching ErrNotFound,
// cached for [Options.NegativeTTL]. A stored value that does not decode into T is treated as
// absent and replaced. ttl must be positive (STORE_TTL_INVALID).
func GetOrLoad[T any](ctx context.Context, c *Cache, key string, ttl time.Duration, load func(context.Context) (T, error)) (T, error) {
	var zero T
	sh := c.shared
	o := &sh.opts
	switch {
	case key == "":
		return zero, ops.Invalid(ops.CodeKeyRequired, operation, "Key is required", nil)
	case ttl <= 0:
		return zero, ops.Invalid(ops.CodeTTLInvalid, operation, "A cache TTL must be positive, got "+ttl.String(), nil)
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
	ch := sh.group.DoChan(c.store.Prefix()+"\x00"+ck, func() (any, error) {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.WaitTimeout+o.LeaseTTL)
		defer cancel()
		return fill(lctx, c, ck, ttl, load)
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

// fill loads ck once across instances: it takes the claim on ck and loads, or waits (capped,
// jittered exponential backoff) for the holder's value, and loads itself after WaitTimeout.
func fill[T any](ctx context.Context, c *Cache, ck string, ttl time.Duration, load func(context.Context) (T, error)) (*entry[T], error) {
	sh := c.shared
	o := &sh.opts
	owner := sh.owner + ":" + strconv.FormatInt(sh.seq.Add(1), 10)
	deadline := time.Now().Add(o.WaitTimeout)
	backoff := o.PollMin
	for waited := false; ; waited = true {
		got, err := c.store.Claim.Once(ctx, ck, owner, o.LeaseTTL)
		if err != nil {
			return nil, err
		}
		if got {
			// Double-check: another instance may have stored the value and released its claim
			// between our miss and our claim.
			if e, found, err := read[T](ctx, c, ck); err == nil && found && usable(e, o) {
				c.release(ctx, ck, owner)
				return e, nil
			}
			return loadAndStore(ctx, c, ck, ttl, load, owner)
		}
		if !waited {
			sh.stats.waits.Add(1)
		}
		if time.Now().After(deadline) {
			sh.stats.waitTimeouts.Add(1)
			return loadAndStore(ctx, c, ck, ttl, load, "")
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

// loadAndStore calls load and caches what it returns; owner's claim (if any) is released after.
// A failure to write the cache does not fail the load: the value is returned and the failure
// reported as a refresh error.
func loadAndStore[T any](ctx context.Context, c *Cache, ck string, ttl time.Duration, load func(context.Context) (T, error), owner string) (*entry[T], error) {
	sh := c.shared
	o := &sh.opts
	if owner != "" {
		defer c.release(ctx, ck, owner)
	}
	start := time.Now()
	v, err := load(ctx)
	took := time.Since(start)
	sh.stats.loads.Add(1)
	if err != nil && !errors.Is(err, ErrNotFound) {
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

// refresh reloads ck in the background, unless this process or another instance already is.
// It reports whether a refresh started here.
func refresh[T any](ctx context.Context, c *Cache, ck string, ttl time.Duration, load func(context.Context) (T, error)) bool {
	sh := c.shared
	o := &sh.opts
	return sh.goBackground(c.store.Prefix()+"\x00"+ck, func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.LeaseTTL)
		defer cancel()
		owner := sh.owner + ":" + strconv.FormatInt(sh.seq.Add(1), 10)
		got, err := c.store.Claim.Once(rctx, ck, owner, o.LeaseTTL)
		if err != nil {
			c.report(err)
			return
		}
		if !got {
			return // another instance is loading it
		}
		if _, err := loadAndStore(rctx, c, ck, ttl, load, owner); err != nil {
			c.report(err)
		}
	})
}
