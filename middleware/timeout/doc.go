// Package timeout gives every operation a deadline: an [ops.Op] whose context has none runs
// with a default one, so a stalled Redis cannot hold a caller forever. A context that already
// has a deadline is left alone: the caller's deadline wins, shorter or longer.
//
// A blocking stream read (XREADGROUP BLOCK) may wait for its block time by design; its default
// deadline is the block time plus the default.
//
// When the deadline passes, the operation fails with STORE_TIMEOUT (category
// [ops.ErrCanceled]), which neither the retry middleware nor the circuit breaker counts: from a
// context error, and from the I/O timeout go-redis reports when the connection's deadline, which
// it sets to the ctx deadline with ContextTimeoutEnabled, expires (the handshake of a new
// connection included). The store's Build requires ContextTimeoutEnabled, so a server that
// accepts connections and never answers holds an operation no longer than its deadline. What
// runs after or outside it bounds itself: the cleanup of a failed Events.Subscribe runs off the
// caller's goroutine with a timeout of its own, a consume loop's calls have Block plus 1 s, and
// a near cache's own client sets ContextTimeoutEnabled and a 5 s default.
//
// A panic below the middleware goes up to the caller; the deadline context it made is
// canceled on the way (its cancel is deferred), and a shared deadline holds no per-call state.
//
// The middleware is safe for concurrent use. Place it outside retry, so the deadline bounds the
// whole operation, backoffs included.
package timeout
