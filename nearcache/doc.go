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
//   - metrics: hits, misses, invalidations applied, entries evicted because their connection
//     was lost ([Near.Stats]), and a hook for each event ([Options.OnEvent]);
//   - the staleness guarantee: a value is served only while the connection that fetched it is
//     tracked. go-redis evicts a lost connection's entries when it notices the loss (at once on
//     an active connection, within DrainInterval — default 5ms — on an idle one), and
//     [Options.MaxStaleness] (default 1 minute) caps how long any entry is served regardless.
//
// A write from any client — the store, a plain go-redis client, the Node original's raw SET —
// makes Redis send an invalidation, and the next read fetches the new value.
//
// Reads of the near cache do not pass through the store's middleware chain (they are served in
// memory); count them with [Near.Stats].
package nearcache
