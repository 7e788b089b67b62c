// Package timeout gives every operation a deadline: an [ops.Op] whose context has none runs
// with a default one, so a stalled Redis cannot hold a caller forever. A context that already
// has a deadline is left alone: the caller's deadline wins, shorter or longer.
//
// A blocking stream read (XREADGROUP BLOCK) may wait for its block time by design; its default
// deadline is the block time plus the default.
//
// When the deadline passes, the operation fails with STORE_TIMEOUT (category
// [ops.ErrCanceled]), which neither the retry middleware nor the circuit breaker counts.
//
// A panic below the middleware goes up to the caller; the deadline context it made is
// canceled on the way (its cancel is deferred), and a shared deadline holds no per-call state.
//
// The middleware is safe for concurrent use. Place it outside retry, so the deadline bounds the
// whole operation, backoffs included.
package timeout
