package ratelimit

import (
	"context"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/pause"
	"github.com/igniter-go/store/ops"
)

// Limit is Rate events per Period, with bursts of up to Burst at once. Rate and Burst must be
// positive, Period at least a microsecond per unit of Rate, and Burst·⌈Period/Rate⌉ (the time a
// full burst takes to refill) at most the largest time.Duration; see the package doc.
type Limit struct {
	Rate   int64
	Period time.Duration
	Burst  int64
}

// PerSecond is rate events a second, with bursts of rate.
func PerSecond(rate int64) Limit { return Limit{Rate: rate, Period: time.Second, Burst: rate} }

// PerMinute is rate events a minute, with bursts of rate.
func PerMinute(rate int64) Limit { return Limit{Rate: rate, Period: time.Minute, Burst: rate} }

// PerHour is rate events an hour, with bursts of rate.
func PerHour(rate int64) Limit { return Limit{Rate: rate, Period: time.Hour, Burst: rate} }

// Options configure a [Limiter]. The zero value is the default.
type Options struct {
	// Prefix starts every limiter key inside the store's counter namespace. Default "ratelimit".
	// Keep counter keys of your own out of it.
	Prefix string
}

// Result is the outcome of a check.
type Result struct {
	// Limit is the limit that was checked.
	Limit Limit
	// Allowed is how many units passed: the cost asked for, or 0 when limited.
	Allowed int64
	// Remaining is how many more units would pass right now.
	Remaining int64
	// RetryAfter is how long until a request of the same cost passes, unless others take from
	// the key in between (rounded up to the microsecond, the server clock's tick); 0 when it
	// passed; never negative.
	RetryAfter time.Duration
	// ResetAfter is how long until the limit is back to its full burst (rounded up to the
	// microsecond); never negative.
	ResetAfter time.Duration
}

// OK reports whether the request passed.
func (r Result) OK() bool { return r.Allowed > 0 }

// Limiter checks limits on keys of one store. It holds no state of its own beyond its options
// and is safe for concurrent use; build one per store (or scoped store) at no cost.
type Limiter struct {
	store  *client.Store
	prefix string
}

// New returns a limiter on store. A nil store is STORE_CONFIGURATION_INVALID. Limits are checked
// per call ([Limiter.AllowN]), since each call may pass its own.
func New(store *client.Store, opts Options) (*Limiter, error) {
	if store == nil {
		return nil, ops.Invalid(ops.CodeConfigurationInvalid, "ratelimit.new", "ratelimit.New needs a store", nil)
	}
	if opts.Prefix == "" {
		opts.Prefix = "ratelimit"
	}
	return &Limiter{store: store, prefix: opts.Prefix + ":"}, nil
}

// Allow takes one unit of limit on key.
func (l *Limiter) Allow(ctx context.Context, key string, limit Limit) (Result, error) {
	return l.AllowN(ctx, key, limit, 1)
}

// AllowN takes n units of limit on key, or none when they do not all fit. n = 0 reports the state
// without taking anything. A limit outside the accepted range (see [Limit]), a negative n, or an
// n above limit.Burst (which could never pass) is STORE_CONFIGURATION_INVALID, with no call to
// Redis; an empty key STORE_KEY_REQUIRED; Redis failures are coded as for counters.
func (l *Limiter) AllowN(ctx context.Context, key string, limit Limit, n int64) (Result, error) {
	if key != "" { // the store reports STORE_KEY_REQUIRED for the empty key itself
		key = l.prefix + key
	}
	r, err := l.store.Counter.GCRA(ctx, key, ops.RateArgs{Rate: limit.Rate, Period: limit.Period, Burst: limit.Burst}, n)
	if err != nil {
		return Result{Limit: limit}, err
	}
	return Result{Limit: limit, Allowed: r.Allowed, Remaining: r.Remaining, RetryAfter: r.RetryAfter, ResetAfter: r.ResetAfter}, nil
}

// Wait takes one unit of limit on key, waiting as long as the limiter says (RetryAfter) until it
// passes or ctx ends. A ctx that ends first is STORE_CANCELED or STORE_TIMEOUT.
func (l *Limiter) Wait(ctx context.Context, key string, limit Limit) (Result, error) {
	for {
		r, err := l.Allow(ctx, key, limit)
		if err != nil || r.OK() {
			return r, err
		}
		if err := pause.For(ctx, r.RetryAfter); err != nil {
			return r, ops.Failure(ops.CounterGCRA, ops.ErrCanceled, err)
		}
	}
}
