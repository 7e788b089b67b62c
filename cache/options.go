package cache

import (
	"math/rand/v2"
	"time"
)

// Options configure a [Cache]. Every zero field means the default documented on it.
type Options struct {
	// Prefix starts every cache key in the store's kv and claim namespaces. Default "cache".
	Prefix string
	// LeaseTTL is how long one instance's claim to load a key lasts: if it dies while loading,
	// another takes over after this. It is also the deadline of a background refresh's loader.
	// Default 10s.
	LeaseTTL time.Duration
	// WaitTimeout is how long a caller waits for another instance's load before it loads itself.
	// Default LeaseTTL.
	WaitTimeout time.Duration
	// PollMin and PollMax bound the capped, jittered exponential backoff of that wait.
	// Defaults 5ms and 100ms.
	PollMin, PollMax time.Duration
	// Beta turns on XFetch early refresh: a hit refreshes in the background when
	// now − load·Beta·ln(U) ≥ expiry, U uniform in (0,1]. 1 is the paper's choice; larger
	// refreshes earlier. Default 0: off.
	Beta float64
	// StaleFor serves a value for this long after it expires while one background refresh runs
	// (stale-while-revalidate). The Redis key lives ttl + StaleFor. Default 0: off.
	StaleFor time.Duration
	// NegativeTTL caches a loader's [ErrNotFound] for this long. Default 0: not cached.
	NegativeTTL time.Duration
	// OnRefreshError receives the error of a background refresh (nobody else would see it).
	// Default: logged at warn level on the store's logger, without the key.
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
