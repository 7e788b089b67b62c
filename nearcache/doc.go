// Package nearcache keeps the hot values of a store's kv namespace in process memory, coherent
// with Redis through server-assisted client-side caching (CLIENT TRACKING, RESP3).
//
// The mechanism is go-redis v9's client-side cache (Options.ClientSideCache, experimental in
// v9.23): a dedicated RESP3 client whose pool connections run CLIENT TRACKING ON, a bounded LRU
// (*redis.LocalCache), invalidation pushes applied as they arrive, and every entry fetched on a
// connection evicted when that connection goes away. This package adds only what it lacks:
//   - the store-level switch ([Options.Off] reads through the store as if there were no near
//     cache) and bounds with documented defaults;
//   - scoping: the near cache's client reads only keys under the store's own kv prefix, so the
//     server tracks nothing else for it and nothing else is ever cached;
//   - metrics: hits, misses, invalidations applied, connections lost and the entries evicted
//     with them, reported as signals to the store's observers (client.Store.Signal:
//     ops.SignalNearHit, SignalNearMiss, SignalNearInvalidated, SignalNearConnectionLost,
//     SignalNearFlushed), so the store's telemetry logs them as igniter.store.nearcache.* and
//     opsprom counts them (igniter_store_nearcache_*_total); also as [Near.Stats] and a hook
//     for each invalidation or eviction ([Options.OnEvent]);
//   - the staleness guarantee: a value is served only while the connection that fetched it is
//     tracked. go-redis evicts a lost connection's entries when it notices the loss (at once on
//     an active connection, within DrainInterval — default 5ms — on an idle one), and
//     [Options.MaxStaleness] (default 1 minute) caps how long any entry is served regardless;
//   - expiry: an entry is never served after the expiry its key had when the value was fetched
//     (a write of this store that changes it drops the entry, see below). The first read of a
//     fetched value asks Redis for the key's PTTL (one more round trip per fetch), and a hit past
//     that instant is dropped and read again: Redis sends no invalidation for a key that expires
//     unread. A hit costs no round trip, except the first hit of a key after the table of expiry
//     instants was reset (at 2×MaxEntries keys, since keys the LRU evicts leave theirs behind),
//     which learns the PTTL again. A TTL another client changes later (EXPIRE, PERSIST, a SET)
//     is that client's write: it counts from when its invalidation is applied, as below;
//   - scope: a store whose Required() scope is not applied gets STORE_SCOPE_REQUIRED, as from
//     KV.Get, and opens no connection.
//
// What a read returns after a write:
//   - a write through the near cache's own store (KV.Set, SetIfAbsent, Remove, Expire, Touch,
//     Batch.Set, of this store or any store scoped from the same Build) drops the key's entry
//     before the write returns (client.Store.WatchKVWrites), so a read that starts after the
//     write is acknowledged never returns the value it replaced. While the write is in flight,
//     reads concurrent with it may see the new value (a miss) and then the old one (a hit on an
//     entry cached before): the near cache is not linearizable in that window;
//   - a write from any other client (a plain go-redis client, the Node original's raw SET, another
//     process's store) reaches the near cache as Redis's invalidation, applied when go-redis
//     reads it: at once on a connection in use, within DrainInterval (default 5ms) on an idle
//     one, plus scheduling delay. Reads that start after it is applied return the new value;
//     until then a hit may return the old one (measured on loopback, write acknowledged →
//     invalidation applied: p50 ~0.4ms, p99 ~40ms on 2 saturated cores), and never for longer
//     than MaxStaleness after the value was fetched. go-redis v9.23 exposes no way to drain a
//     connection from the hit path, so a hit does not look for invalidations still unread.
//
// Reads of the near cache do not pass through the store's middleware chain (a hit is served in
// memory, a miss on the near cache's own client), so they are not store operations: they show
// as near-cache signals, not as kv.get operations. A hit signal allocates nothing: ~4 ns on a
// store without observers, ~50 ns with opsprom and a slog sink (BENCHMARKS.md).
//
// The signals go through client.Store.Signal, the store's public API, not internal/storecore:
// storecore is how client hands a feature it builds itself (streams) the whole core — running
// ops, draining, dedicated connections — whereas the near cache is built by the user from a
// *client.Store and needs only to signal.
package nearcache
