// Package cache is cache-aside on a store with stampede protection: [GetOrLoad] returns the
// cached value of a key or runs the loader once to fill it — once per key across the goroutines
// of a process (golang.org/x/sync/singleflight) and across instances (a short claim on the key:
// the other instances wait for the value, polling with capped backoff bounded by ctx, and load
// themselves only when the holder takes longer than [Options.WaitTimeout]).
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
// Loader errors are never cached. Values are stored as JSON in the store's kv namespace under
// <Options.Prefix>:<key>, wrapped with their load time and freshness deadline:
//
//	igniter:store:<service>{:<scope>:<id>}*:kv:cache:<key>   {"v":<value>,"d":<load ms>,"f":<fresh until, unix ms>}
//	igniter:store:<service>{:<scope>:<id>}*:claim:cache:<key> the load claim (expires after LeaseTTL)
//
// The freshness deadline is wall-clock time of the writer; instances are assumed to have clocks
// within a small fraction of the TTL of each other.
package cache
