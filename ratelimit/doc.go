// Package ratelimit limits how often something may happen, across every instance of a service,
// with GCRA (the generic cell rate algorithm, as github.com/go-redis/redis_rate runs it).
//
// Each check is one Lua script on one Redis key ([client.Counter.GCRA]): it reads the key's
// theoretical arrival time, decides with the Redis server's clock (TIME), and writes the new time
// with an expiry, atomically. So, unlike the INCR-then-EXPIRE fixed window of the original recipe:
//   - no key is ever left without an expiry (a process dying between two commands cannot happen
//     with one script), and the key vanishes once the limit is back to its full burst;
//   - there is no window edge: on one key, within any interval of length d of the server's clock,
//     at most Burst + Rate·d/Period units pass, never 2× the limit. This holds for every limit
//     the package accepts: the emission interval Period/Rate is rounded up to the nanosecond
//     (never down), so the limiter may run up to 0.1% below Rate, never above it, and the
//     arithmetic is exact (no overflow, no floating-point rounding);
//   - it runs on Redis Cluster (one key per call) and every instance uses one clock, the
//     server's, so the clocks of the instances do not matter.
//
// What the bound rests on, and where it stops: it is measured on the server's clock, a wall
// clock; a step of that clock forward by s (or a failover to a server whose clock is s ahead)
// lets up to Rate·s/Period more through, a step back only delays. A key whose last writes are
// lost (a failover before they reached the replica, a restart without persistence) starts over
// at its full burst.
//
// A limit is accepted when Rate and Burst are positive, Period is at least a microsecond per
// unit of Rate, and a full burst refills within the largest time.Duration (Burst·⌈Period/Rate⌉
// ≤ 2⁶³−1 ns, about 292 years); a check's cost n must be 0 ≤ n ≤ Burst (more could never pass).
// Anything else is STORE_CONFIGURATION_INVALID before any call to Redis. RetryAfter and
// ResetAfter are never negative, and RetryAfter is true: once the server's clock has moved on
// that much, a request of the same cost passes, unless others took from the key in between.
//
// Keys live in the store's counter namespace under the limiter's prefix, so a limiter built on a
// scoped store limits per tenant:
//
//	igniter:store:<service>{:<scope>:<id>}*:counter:ratelimit:<key>
//
// # Constructor
//
// New follows the one convention of the recipe packages (cache, ratelimit, nearcache, leader,
// httpstore): New(store, …, Options) returns the value and an error. The zero Options is the
// default; a nil store or an option outside its documented limits is STORE_CONFIGURATION_INVALID,
// returned by New before any call to Redis, so the methods of a value New returned never fail
// for its options.
//
// A limit is an argument of each call, not an option, so it is checked where it is passed.
package ratelimit
