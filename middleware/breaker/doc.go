// Package breaker is the store's circuit breaker middleware, an adapter of
// github.com/sony/gobreaker/v2.
//
// When Redis is down, every call would wait for a dial or an I/O timeout. The breaker counts
// consecutive failures and, past a threshold, opens: calls then fail at once, without being
// sent, with STORE_CIRCUIT_OPEN (category [ops.ErrRejected]; errors.Is(err, [ErrOpen]) holds).
// After [Settings.Timeout] it lets a few probe calls through (half-open); if they succeed it
// closes, if one fails it opens again.
//
// # What counts
//
// [Classify] decides, for each call:
//   - failure: [ops.ErrUnavailable] (Redis unreachable or not answering);
//   - success: no error, a miss, a Redis error reply ([ops.ErrFailed]), a conflict — Redis
//     answered, so it is up;
//   - excluded (neither): the caller's context ended, a context error, [ops.ErrInvalid] and
//     [ops.ErrRejected] (the call never reached Redis: bad input, closed store).
//
// A panic below the breaker (a middleware under it, the executor) counts as a failure and is
// re-raised, so a panicking half-open probe opens the breaker again instead of using up the
// probe and leaving it half-open.
//
// # State and transitions
//
// [Breaker.State] reports the state; [Settings.OnStateChange] hears every transition. It is
// called after the breaker's lock is released, in order, from the goroutine whose call caused
// the transition, so it may call [Breaker.State].
//
// # Cost
//
// While the breaker is closed and no failure is counted, a call that succeeds costs two atomic
// loads: it is not reported to gobreaker, whose mutex and clock reads would otherwise be paid
// twice per call (a success would only reset a run of failures that is already zero). Any
// other outcome is reported as if the call had just been admitted, so the breaker opens, probes
// and closes on the outcomes gobreaker would count (fastpath.go).
//
// A Breaker is safe for concurrent use. Put it inside the retry middleware: retry then sees its
// rejection and stops.
package breaker
