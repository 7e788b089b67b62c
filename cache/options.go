package cache

import (
	"math/rand/v2"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/ops"
)

// MinLeaseTTL is the shortest [Options.LeaseTTL]. A claim is held with [client.Lease.Hold], which
// loads only while at least a third of the lease is certainly left after its drift margin
// (TTL/100 + 2ms) and the claim's round trip: a lease of a few milliseconds never has that, and
// every load would fail with STORE_LEASE_LOST.
const MinLeaseTTL = 10 * time.Millisecond

// Options configure a [Cache]. Every zero field means the default documented on it. Options
// outside the limits documented here are STORE_CONFIGURATION_INVALID from [New].
type Options struct {
	// Prefix starts every cache key in the store's kv and claim namespaces. Default "cache".
	Prefix string
	// LeaseTTL is how long one instance's claim to load a key lasts without renewal. The
	// instance renews it every LeaseTTL/3 while its loader runs, so it does not bound the load:
	// it is how soon another instance loads after the holder died (within LeaseTTL). Between
	// [MinLeaseTTL] and client.MaxTTL. Default 10s.
	LeaseTTL time.Duration
	// WaitTimeout is how long a caller waits for another instance's load before it loads itself,
	// even while that load goes on. Every load's ctx ends WaitTimeout + LeaseTTL after the load
	// started (a foreground load's wait included). LeaseTTL + WaitTimeout must not exceed
	// client.MaxTTL. Default LeaseTTL.
	WaitTimeout time.Duration
	// PollMin and PollMax bound the capped, jittered exponential backoff of that wait.
	// Defaults 5ms and 100ms.
	PollMin, PollMax time.Duration
	// Beta turns on XFetch early refresh: a hit refreshes in the background when
	// now − load·Beta·ln(U) ≥ expiry, U uniform in (0,1]. 1 is the paper's choice; larger
	// refreshes earlier. Default 0: off.
	Beta float64
	// StaleFor serves a value for this long after it expires while one background refresh runs
	// (stale-while-revalidate). The Redis key lives ttl + StaleFor, so GetOrLoad's ttl must be
	// at most client.MaxTTL − StaleFor. Between 0 and client.MaxTTL. Default 0: off.
	StaleFor time.Duration
	// NegativeTTL caches a loader's [ErrNotFound] for this long. Between 0 and client.MaxTTL.
	// Default 0: not cached.
	NegativeTTL time.Duration
	// OnRefreshError receives the failures nobody waits for: a background refresh's (a panicking
	// loader's as STORE_CALLBACK_PANIC), a lost or unreleased claim, a value that could not be
	// written. It runs on the cache's goroutines; if it panics, the panic is recovered and logged
	// at error level on the store's logger (STORE_CALLBACK_PANIC, with the failure it was given),
	// and the cache goes on. Default: logged at warn level on the store's logger, without the key.
	OnRefreshError func(error)

	// Now and Random are for tests. Defaults time.Now and math/rand/v2.Float64.
	Now    func() time.Time
	Random func() float64
}

func (o Options) withDefaults() Options {
	if o.Prefix == "" {
		o.Prefix = "cache"
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 10 * time.Second
	}
	if o.WaitTimeout <= 0 {
		o.WaitTimeout = o.LeaseTTL
	}
	if o.PollMin <= 0 {
		o.PollMin = 5 * time.Millisecond
	}
	if o.PollMax <= 0 {
		o.PollMax = 100 * time.Millisecond
	}
	o.PollMax = max(o.PollMax, o.PollMin)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Random == nil {
		o.Random = rand.Float64
	}
	return o
}

// check returns STORE_CONFIGURATION_INVALID for options the store cannot honour: StaleFor and
// NegativeTTL go into Redis TTLs (which the store caps at [client.MaxTTL]), LeaseTTL is a claim's
// TTL, and WaitTimeout + LeaseTTL is a load's deadline, which must not overflow. Call it after
// withDefaults.
func (o Options) check() error {
	bad := func(field string, d time.Duration, limit string) error {
		return ops.Invalid(ops.CodeConfigurationInvalid, newOperation, "cache.Options."+field+" must be "+limit+", got "+d.String(),
			map[string]any{"option": field, "ttl": d.String()})
	}
	within := "between 0 and client.MaxTTL (" + client.MaxTTL.String() + ")"
	switch {
	case o.StaleFor < 0 || o.StaleFor > client.MaxTTL:
		return bad("StaleFor", o.StaleFor, within)
	case o.NegativeTTL < 0 || o.NegativeTTL > client.MaxTTL:
		return bad("NegativeTTL", o.NegativeTTL, within)
	case o.LeaseTTL < MinLeaseTTL || o.LeaseTTL > client.MaxTTL:
		return bad("LeaseTTL", o.LeaseTTL, "between cache.MinLeaseTTL ("+MinLeaseTTL.String()+") and client.MaxTTL ("+client.MaxTTL.String()+")")
	case o.WaitTimeout > client.MaxTTL-o.LeaseTTL:
		return bad("WaitTimeout", o.WaitTimeout, "at most client.MaxTTL − LeaseTTL")
	}
	return nil
}
