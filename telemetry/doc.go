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
// [Middleware] emits the operation events and belongs in the outermost chain position, so it
// sees every outcome of a logical operation, retries included. [NewObserver] turns the store's
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
// Everything in this package is safe for concurrent use.
package telemetry
