// Package cache is cache-aside on a store with stampede protection: [GetOrLoad] returns the
// cached value of a key, or runs the loader to fill it, with these guarantees and limits:
//
//   - In one process, concurrent callers of a key on one Cache (and its [Cache.For] views) share
//     one load (golang.org/x/sync/singleflight).
//   - Across instances, the instance that loads holds a claim on the key: a lease of
//     [Options.LeaseTTL] that it renews every LeaseTTL/3 for as long as its loader runs. The
//     others wait for its value, polling with capped backoff bounded by their ctx. So while the
//     holder is alive and reaches Redis, no other instance starts a load of the key, however
//     long the loader takes, unless a caller has waited [Options.WaitTimeout]: then it loads
//     itself. If the holder dies, its claim expires within LeaseTTL and a waiting instance
//     loads; if it cannot renew (Redis unreachable), its loader's ctx is canceled (cause
//     STORE_LEASE_LOST) before the claim can expire, and a loader that ignores its ctx may
//     then overlap another instance's.
//   - A loaded value is cached for the ttl of the call: until then reads are answered from Redis
//     without calling the loader, except the background refreshes turned on below (at most one
//     per key at a time across instances, under the same claim). Not cached: loader errors (the
//     next miss loads again), [ErrNotFound] without NegativeTTL, and a value whose write failed
//     (reported to [Options.OnRefreshError]). A key Redis evicts or someone deletes is a miss,
//     and freshness is judged on the writer's clock (see the end).
//   - User code never kills the process from the cache's goroutines: a loader that panics (or
//     calls runtime.Goexit) gives every caller waiting for that load STORE_CALLBACK_PANIC (in a
//     background refresh, it goes to OnRefreshError); a panicking OnRefreshError is recovered
//     and logged, and a log handler that panics is recovered and dropped.
//
// Beyond that, each off by default:
//   - early refresh ([Options.Beta], XFetch: Vattani, Chierichetti, Lowenstein, "Optimal
//     Probabilistic Cache Stampede Prevention", VLDB 2015): a hit close to expiry refreshes the
//     value in the background with a probability that grows as expiry nears and with how long
//     the loader took, so a hot key is refreshed before it expires and no reader waits;
//   - stale-while-revalidate ([Options.StaleFor]): after expiry the old value is served for a
//     while as one background refresh runs;
//   - negative caching ([Options.NegativeTTL]): a loader returning [ErrNotFound] is remembered.
//
// Values are stored as JSON in the store's kv namespace under <Options.Prefix>:<key>, wrapped
// with their load time and freshness deadline; the claim is a [client.Lease] from [client.Claim.TryLease] on the same name (no fencing
// counter, so nothing but these two keys, both expiring, is written per cached key):
//
//	igniter:store:<service>{:<scope>:<id>}*:kv:cache:<key>   {"v":<value>,"d":<load µs>,"f":<fresh until, unix ms>}
//	igniter:store:<service>{:<scope>:<id>}*:claim:cache:<key> the load claim (expires LeaseTTL after its last renewal)
//
// The freshness deadline is wall-clock time of the writer; instances are assumed to have clocks
// within a small fraction of the TTL of each other.
//
// # Constructor
//
// New follows the one convention of the recipe packages (cache, ratelimit, nearcache, leader,
// httpstore): New(store, …, Options) returns the value and an error. The zero Options is the
// default; a nil store or an option outside its documented limits is STORE_CONFIGURATION_INVALID,
// returned by New before any call to Redis, so the methods of a value New returned never fail
// for its options.
package cache
