// Package retry is the store's retry middleware: it runs an [ops.Op] again when an attempt
// failed in a way that another attempt may fix, and only when running it twice is safe.
//
// # What is retried
//
// An attempt is retried only when all of these hold (see [DefaultRetryable]):
//   - the Op is idempotent: [ops.Op.Idempotent] is set (the store sets it for read-only kinds:
//     kv.get, kv.exists, batch.get, stream.range, stream.pending, dev.scan), or the call's
//     context was marked with [Idempotent] and the kind is [ops.Kind.Repeatable] (the mark
//     never makes a counter change, a claim, a publish, an append or a group read retryable);
//   - the error is [ops.ErrUnavailable] (connection refused or reset, I/O timeout, LOADING…);
//     never a context error, never [ops.ErrInvalid], never [ops.ErrRejected] (an open breaker,
//     a closed store), never [ops.ErrFailed] (a Redis error reply);
//   - the context is not done, attempts remain ([Policy.MaxAttempts] counts the first try), and
//     the [Budget], if any, has a token;
//   - the context's deadline leaves the backoff plus [Policy.MinAttemptTime] (10ms by default):
//     an attempt that could not finish before the deadline is never started, and a backoff that
//     would end after it is not waited (read from the clock, so a context whose Done closes a
//     little late cannot let an attempt start after its deadline).
//
// Writes (SET, EXPIRE, DEL…) are never retried unless the caller opts in per call with
// [Idempotent], because a write that failed ambiguously may have been applied; INCR, claims,
// PUBLISH, XADD and the other kinds that are not [ops.Kind.Repeatable] are not retried even then:
// an INCR retried after a lost reply counts twice, a Claim.Once retried finds its own claim and
// says "not acquired".
//
// # Budget
//
// A [Budget] caps retries at a ratio of recent requests (10% by default), so a Redis
// outage cannot multiply the load on it. When a retry is due and the budget is spent, the call
// fails with STORE_RETRY_BUDGET_EXHAUSTED, which wraps the last attempt's error.
//
// # Placement
//
// Put retry inside telemetry (one logical operation = one span, whatever the attempts) and
// outside the circuit breaker (the breaker sees each attempt, and its rejection stops the
// retries at once). The client's builder composes it so.
//
// A Policy is a plain value; the middleware [New] returns is safe for concurrent use.
package retry
