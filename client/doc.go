// Package client is the public API of Igniter Store for Go: the [Builder] that configures a store
// and the [Store] whose fields group its operations as the original @igniter-js/store does —
// KV, Counter, Claim, Batch, Dev (and Events, Streams) — plus [Store.Scope] for tenants.
//
// # Quick start
//
//	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379", MaxRetries: -1})
//	st, err := client.New().
//		WithAdapter(client.Redis(rdb)).
//		WithService("api").
//		AddScope("organization", client.Required()).
//		Build()
//	org, err := st.Scope("organization", "org_1")
//	err = org.KV.Set(ctx, "user:1", user, time.Hour)
//	u, found, err := client.GetAs[User](ctx, org.KV, "user:1")
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
// executor, which is the only code that talks to go-redis. A Store is immutable and safe for
// concurrent use.
package client
