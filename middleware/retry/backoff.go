package retry

import (
	"math/rand/v2"
	"time"
)

// BackoffFunc returns how long to wait before the next attempt. retry is the number of the
// retry about to happen: 1 before the second attempt, 2 before the third…
type BackoffFunc func(retry int) time.Duration

// Exponential returns full-jitter exponential backoff: before retry n it waits a uniformly random
// duration in [0, min(max, base·2^(n-1))]. Full jitter spreads the retries of many clients that
// failed together, so they do not hit a recovering server in waves.
func Exponential(base, max time.Duration) BackoffFunc {
	return ExponentialRand(base, max, rand.Int64N)
}

// ExponentialRand is [Exponential] with the random source given: rnd(n) must return a value in
// [0, n). Tests pass a deterministic function.
func ExponentialRand(base, max time.Duration, rnd func(n int64) int64) BackoffFunc {
	return func(retry int) time.Duration {
		if base <= 0 || max <= 0 {
			return 0
		}
		ceil := base
		for i := 1; i < retry && ceil < max; i++ {
			ceil *= 2
		}
		ceil = min(ceil, max)
		return time.Duration(rnd(int64(ceil) + 1))
	}
}

// NoBackoff is the backoff that does not wait: Policy{Backoff: retry.NoBackoff} retries at once.
func NoBackoff(int) time.Duration { return 0 }

// Constant returns a backoff that always waits d.
func Constant(d time.Duration) BackoffFunc {
	return func(int) time.Duration { return d }
}
