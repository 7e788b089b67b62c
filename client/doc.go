// Package client is the public API of Igniter Store for Go: the [Builder] that configures a store
// and the [Store] whose fields group its operations as the original @igniter-js/store does —
// KV, Counter, Claim, Batch, Dev (and Events, Streams) — plus [Store.Scope] for tenants.
//
// # Quick start
//
// The README's quick start: a Redis at REDIS_ADDR (default localhost:6379), a store that owns
// its go-redis client and closes it, a readiness check (Build never dials), then a scoped write,
// a typed read and a counter.
//
//	package main
//
//	import (
//		"cmp"
//		"context"
//		"fmt"
//		"log"
//		"os"
//		"time"
//
//		"github.com/redis/go-redis/v9"
//
//		"github.com/igniter-go/store/client"
//	)
//
//	func main() {
//		ctx := context.Background()
//		addr := cmp.Or(os.Getenv("REDIS_ADDR"), "localhost:6379")
//		// MaxRetries: -1 and ContextTimeoutEnabled: true are required: the store decides what is retried.
//		rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, ContextTimeoutEnabled: true})
//		st, err := client.New().
//			WithAdapter(client.Redis(rdb, client.OwnClient())). // st.Close closes rdb too
//			WithService("billing").
//			AddScope("organization", client.Required()).
//			Build()
//		if err != nil {
//			log.Fatal(err) // a coded *ops.Error: STORE_CONFIGURATION_INVALID, STORE_SERVICE_REQUIRED…
//		}
//		defer st.Close()
//		if err := st.Ping(ctx); err != nil { // Build never dials: Ping is the readiness check
//			log.Fatal(err)
//		}
//
//		org := st.MustScope("organization", "org_1") // keys under igniter:store:billing:organization:org_1
//		if err := org.KV.Set(ctx, "invoice:42", map[string]int{"amount": 990}, time.Hour); err != nil {
//			log.Fatal(err)
//		}
//		inv, found, err := client.GetAs[map[string]int](ctx, org.KV, "invoice:42")
//		fmt.Println(inv, found, err) // map[amount:990] true <nil>
//		n, err := org.Counter.Increment(ctx, "invoices")
//		fmt.Println(n, err) // 1 <nil> on a fresh Redis
//	}
//
// # Wire compatibility
//
// Keys, values, claims, counters, event envelopes and stream entries are byte-for-byte those of
// @igniter-js/store 0.1.26, so Go and Node services share one Redis: keys are
// igniter:store:<service>{:<scopeKey>:<scopeId>}*:<namespace>:<key>, values are JSON with no
// HTML escaping, and stored bytes that are not JSON read back as the raw string.
//
// # Where it differs from the original
//
// Names that go into keys are validated so that no two tenants can share a key and a scan never
// leaves its scope; Required() scopes are enforced; TTLs are time.Duration (0 = no expiry,
// negative = STORE_TTL_INVALID before any network call, sub-second TTLs work); Batch.Set is all
// or nothing; every failure is an [*ops.Error] with a STORE_* code that wraps its cause.
//
// # Operations and the chain
//
// Every call builds an [ops.Op] and runs it through the middleware chain composed once at Build
// (telemetry, timeout, schema validation, retry, breaker, then [Builder.Use] middleware) to the
// executor (internal/executor), the only code that runs data commands on go-redis; the
// subscriber and the blocking-read connections (internal/blockconn) hold connections of their
// own. Scoping is applied when the Op is built, not by a middleware. A Store is immutable and
// safe for concurrent use. Streams live in package streams, reached through [Store.Streams].
//
// # What a store owns
//
// Everything one Build creates belongs to its core and ends at [Store.Close]: the chain, the
// events registry and subscriber connection, the blocking-read connections and consume loops,
// and (with [OwnClient]) the go-redis client. Stores derived by [Store.Scope] share it. The
// package keeps no state of its own: a closed store is garbage like any value.
//
// # Defaults
//
// A Store built without the resilience options ([Builder.WithTimeout], [Builder.WithRetry],
// [Builder.WithBreaker]) runs with these; the settings structs take zero fields as these
// defaults too, so WithRetry(retry.Policy{MaxAttempts: 5}) keeps the default backoff and budget.
//
//   - timeout: [timeout.Default] (5s) for operations whose ctx has no deadline (a blocking stream
//     read gets its block time on top); a caller's own deadline always wins. WithTimeout(0)
//     turns it off. The deadline bounds the whole call, the connection handshake included: a
//     call that reaches it fails with STORE_TIMEOUT. go-redis honours it only with
//     Options.ContextTimeoutEnabled: true, which Build requires (with MaxRetries: -1).
//   - retry: 3 attempts (the first included) for idempotent operations only, on
//     ops.ErrUnavailable only, full-jitter backoff from 10ms to 250ms, and a retry budget of 10%
//     of requests (burst 10), fresh for each Build ([retry.DefaultPolicy]); no retry starts with
//     less than 10ms of the deadline left after its backoff ([retry.Policy.MinAttemptTime]).
//     Idempotent: kv.get, kv.exists, batch.get, stream.range, stream.pending, dev.scan
//     ([ops.Kind.ReadOnly]). Writes are retried only when the call's ctx is marked with
//     [retry.Idempotent], and never counter changes, claims, publishes, appends or group reads,
//     which the mark does not reach ([ops.Kind.Repeatable]). [Builder.WithoutRetry] turns it off.
//   - breaker: opens after 5 consecutive ops.ErrUnavailable failures, stays open 1s, then lets 1
//     probe through; while open, calls fail at once with STORE_CIRCUIT_OPEN
//     (errors.Is(err, breaker.ErrOpen)). A panic below it counts as a failure. One breaker per
//     Build, shared by the stores scoped from it. [Builder.WithoutBreaker] turns it off.
//   - stream connections: 8  for blocking stream reads and consume
//     loops, opened on first use ([Builder.WithStreamConnections]).
//   - health check: an idle subscriber connection is pinged after 30s ([DefaultHealthCheck]) and
//     replaced when it does not answer within another 30s ([Builder.WithHealthCheck]).
//   - logger: discard ([Builder.WithLogger]).
//   - telemetry: none. [Builder.WithTelemetry], [Builder.WithMetrics] and [Builder.WithTracing]
//     share the outermost slot, in this order: tracing outermost, then metrics, then events.
//
// The chain order is telemetry → timeout → schema → retry → breaker → Use(…) → executor: one
// span per logical operation, a deadline that bounds every attempt and backoff, and retries that
// stop at an open breaker.
package client
