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
// What a read returns around a write:
//   - with the writes through the near cache's own store (KV.Set, SetIfAbsent, Remove, Expire,
//     Touch, Batch.Set, of this store or any store scoped from the same Build) the near cache is
//     linearizable, reads concurrent with a write included: once a read has returned a write's
//     value, no later read returns an older one. The store tells the near cache when a write
//     begins, before it is sent, and when it ends: once nothing of it can reach Redis any more
//     (client.Store.WatchKVWrites). That is after Redis answered or the write failed; for a
//     write whose caller left (its ctx ended) while the store's pipeline still held it — queued,
//     or waiting for a new connection to be dialled, from where it is still written — it is
//     once the pipeline has written it and read the answer, or dropped it unwritten, which may
//     be well after the write returned. At the beginning the near cache drops the key's entry
//     and any fetch of it in flight (whose reply may predate the write: it is not cached); until
//     the end, every read of the key reads Redis and caches nothing. A write whose outcome is
//     unknown (written, and its reply lost or its deadline passed) may still be applied by Redis
//     after it ended (a frozen server runs what it was sent once thawed), so its key stays
//     uncached, read from Redis, until a later write of it through the store is acknowledged; a
//     write that sent nothing (refused, dropped unwritten, or whose ctx was done before the
//     call) changes nothing. Such a read usually costs one round trip (no PTTL: nothing is
//     cached); a hit pays one atomic load for all this. The limits: a write already in flight
//     when New returned is seen as another client's write (below); at most MaxEntries keys are
//     kept uncached for an unknown outcome (past that the oldest is cached again); and a later
//     acknowledged write clears an unknown outcome because Redis received the lost write's
//     bytes first — the store wrote them before the lost write ended, and Redis serves what it
//     received in order — so a lost write whose bytes the network itself delays longer than the
//     later write's round trip is seen as another client's write (the history checker's faults
//     hold bytes at the server or drop them; none delays them in the network);
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
