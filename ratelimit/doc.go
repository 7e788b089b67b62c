// Package ratelimit limits how often something may happen, across every instance of a service,
// with GCRA (the generic cell rate algorithm, as github.com/go-redis/redis_rate runs it).
//
// Each check is one Lua script on one Redis key ([client.Counter.GCRA]): it reads the key's
// theoretical arrival time, decides with the server's clock, and writes the new time with an
// expiry, atomically. So, unlike the INCR-then-EXPIRE fixed window of the original recipe:
//   - no key is ever left without an expiry (a process dying between two commands cannot happen
//     with one script), and the key vanishes once the limit is back to its full burst;
//   - there is no window edge: within any interval of length d at most Burst + Rate·d/Period
//     requests pass, never 2× the limit;
//   - it runs on Redis Cluster (one key per call) and uses one clock, the server's.
//
// Keys live in the store's counter namespace under the limiter's prefix, so a limiter built on a
// scoped store limits per tenant:
//
//	igniter:store:<service>{:<scope>:<id>}*:counter:ratelimit:<key>
package ratelimit
