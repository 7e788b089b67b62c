// Package telemetry turns store operations into the igniter.store.* event catalog of the
// original @igniter-js/store: for every operation an igniter.store.<group>.<op>.started event,
// then .success or .error, with the original's exact names, levels and attributes.
//
// # Catalog
//
// [Catalog] lists every name: the original's 63 first, in its order, then the names this
// edition adds in the same style (claim release, leases, stream claim and pending, and the
// signals of subscriptions, consumers, retries and the breaker). [Name] gives the name of one
// operation phase without allocating.
//
// # Sinks
//
// Events go to a [Sink]: [NewSlogSink] writes them to a log/slog logger, [Recorder] keeps them
// in memory for tests, [Multi] fans out, and telemetry/opsotel adds them to the current span.
// A sink reports whether a level is enabled before any attribute is built, so events at a
// disabled level cost one call.
//
// # Wiring
//
// [New] returns the middleware that emits the operation events; it belongs in the outermost
// chain position, so it sees every outcome of a logical operation, retries included. [NewObserver] turns the store's
// signals (deliveries, drops, reconnects, handler failures, consume progress, lag, retries,
// breaker transitions) into events. client.Builder.WithTelemetry wires both.
//
// # What never leaves the store
//
// Attributes are built only from an Op's Kind, Service, ScopeKey, ScopeDepth, Name, TTL, N and
// stream group and consumer, and from a Result's counts and flags. Keys, values, payloads, scope
// ids and message ids never become attributes. Error events carry the code and message of a
// coded *ops.Error, never the text of its cause.
//
// # Where values differ from the original
//
//   - TTL attributes (ctx.kv.ttl, ctx.counter.ttl, ctx.claim.ttl, ctx.lease.ttl) are float64
//     seconds, so a sub-second TTL is not rounded; the original's are the integer seconds it was
//     given. A TTL of 0 (no expiry) on kv.set and claim.acquire is absent, as the original's
//     absent option.
//   - ctx.error.message is the coded error's Message ("kv.get failed", "Key is required"). The
//     original rethrows Redis errors raw, so its message is Redis's reply text
//     ("ERR value is not an integer or out of range") and its code the JS error name
//     (ReplyError). Here every store error is coded (STORE_CONNECTION_FAILED,
//     STORE_INCREMENT_FAILED…) and the reply text, which may quote a key, stays out.
//   - A foreign error (not an *ops.Error, e.g. from middleware added with Use) gets its Go type
//     as ctx.error.code, like the original's error.name, and no message.
//   - Stream group and consumer attributes are left out when empty (a group ensured without a
//     consumer name); ctx.stream.count of stream.read is the number of entries read.
//   - Validation failures before any network call emit started and error, as in the original;
//     an empty batch emits nothing, as in the original.
//
// Everything in this package is safe for concurrent use.
package telemetry
