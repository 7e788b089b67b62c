// Package httpstore is net/http middleware that gives each request the store of its tenant.
//
// The original's route-handler recipe resolves the organization in every handler and calls
// store.scope by hand, so a handler that forgets leaks data across tenants, and its spans start
// a new trace. [New] does it once, before the handler:
//
//  1. continues the caller's trace: unless the request's context already carries a span (an
//     otelhttp handler ran first), the trace context in the request headers is extracted with
//     the configured propagator ([Options.Propagator], by default OpenTelemetry's global one,
//     which does nothing until the application sets one), so the store's spans join the trace;
//  2. resolves the tenant with the function the application gives ([Options.Tenant]);
//  3. puts the store scoped to it ([client.Store.Scope]) in the request's context, where
//     [FromContext] (or [MustFromContext]) finds it.
//
// A resolver error answers the request without calling the handler: 400 for a missing or
// invalid tenant id ([ErrNoTenant], or a STORE_* error of the ops.ErrInvalid category from
// Scope), the status of an error that carries one ([StatusError], 400 to 599; any other status is
// ignored), 500 otherwise; the body never
// holds the error's text unless the status is a 4xx. [Options.OnError] replaces that answer.
//
// The resolver runs on the request's goroutine; the middleware starts none. A resolver that
// panics is recovered and answered like a failure, 500, with a STORE_CALLBACK_PANIC error (its
// value and stack, errors.As *ops.PanicValue) given to OnError, and the next request is served
// as usual. A panic with http.ErrAbortHandler goes on, as net/http intends. The handler and
// OnError are not wrapped: their panics go to the server, which recovers them (net/http logs
// the panic and closes the connection).
//
// # Constructor
//
// New follows the one convention of the recipe packages (cache, ratelimit, nearcache, leader,
// httpstore): New(store, …, Options) returns the value and an error. The zero Options is the
// default; a nil store or a missing Tenant function is STORE_CONFIGURATION_INVALID, and a
// ScopeKey the store does not declare is STORE_INVALID_SCOPE_KEY, all returned by New before any
// request, so the middleware never fails a request for its options.
package httpstore
