// Package ops is the vocabulary of Igniter Store: the [Op] value that describes one logical
// store operation, the [Handler] that runs it, the [Middleware] that wraps a handler, [Chain]
// that composes middleware, and the coded [Error] every failure is returned as.
//
// It imports only the standard library, so every other package — middleware, telemetry, the
// client and its Redis executor — can depend on it without depending on each other.
//
// # The contract
//
//   - ctx is the first parameter and is never stored.
//   - An [Op] is a plain value. A middleware that changes one changes its own copy, and never
//     writes into a slice it did not allocate (copy on write).
//   - The [Result] is returned, never stored in the Op, so a retry re-runs a clean Op.
//   - A middleware calls next exactly once, unless it short-circuits (validation, an open
//     breaker) or retries.
//   - Every error a handler returns is an [*Error] or wraps one, so that [errors.Is] matches the
//     categories ([ErrInvalid], [ErrUnavailable], …) and [CodeOf] reads the STORE_* code.
//
// # Order
//
// [Chain] puts its first argument outermost: Chain(a, b, c)(h) runs a → b → c → h → c → b → a.
// The store composes its chain once, when it is built, from these slots in this order:
//
//	telemetry → timeout → schema → retry → breaker → user middleware (Use) → executor
//
// Scoping is not a slot: a scoped store builds each Op with its keys already under the scope's
// prefix (and rejects a missing Required scope) before the Op enters the chain.
//
// # Errors
//
// Build errors only with this package's constructors — [NewError] (with [Error.WithDetails]),
// [Invalid] and [Failure] — so an error's Category and Status are always the ones [CategoryOf]
// and [StatusOf] give for its Code.
//
// All types in this package are safe for concurrent use; Ops and Results are values.
package ops
