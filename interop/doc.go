// Package interop proves that a Go service on this store and a Node service on the original
// @igniter-js/store@0.1.26 (with ioredis, from npm) behave as one system on one Redis, under
// load. It has no library code: its tests start a redis-server (internal/redistest) and the
// Node original as child processes (interop/node/driver.mjs, installed by npm ci from the
// committed package-lock.json) and run, each on its own server:
//
//   - TestMixedConsumerGroup: one stream and one consumer group, two Node consumers and two Go
//     consume loops, 100,000 entries appended by both languages at once; every entry handled,
//     payloads equal field by field, no entry handled twice except those of a Node consumer
//     killed (SIGKILL) between its work and its ack, whose pending entries the Go loops claim
//     and handle. The original's group read asks only for new entries and cannot claim, so a
//     group that must recover from a dead consumer needs a Go consumer in it.
//   - TestClaimsAcrossLanguages: Node and Go owners contend for the same claims (claim.once and
//     an owner-checked release) while each holder marks a side key in Redis: never two holders
//     at once, and a release by anyone but the owner never deletes a claim.
//   - TestEventsBothWays: typed events at about 10,000 a second each way (zod on the Node side,
//     JSON Schema on the Go side, validated when published and when received): nothing lost
//     while both are connected, and every envelope on the wire byte-identical, timestamp aside,
//     to what the other language writes for the same event.
//   - TestCountersAndBatches: both languages increment the same counters (the totals add up and
//     every value INCR returned is returned once) and batch-set overlapping keys while both
//     read them (every read sees whole batches; what one writes, the other reads equal).
//   - TestKnownDifferences: the bytes that differ for the same value (U+2028 and U+2029, key
//     order of a JSON object re-written through Go, -0, integers beyond 2^53), asserted so that a
//     change is noticed.
//
// Each test reports its figures with t.Logf, and TestMain prints them on one line
// ("interop figures: …") that go test -v shows, and appends it to the file IGNITER_FIGURES_FILE
// names, if set (CI prints that file after the run; figures measured under -race say so).
//
// Where node (or npm, when interop/node/node_modules is missing or stale) is not installed, the
// tests skip with how to install it; with IGNITER_REQUIRE_NODE set (CI sets it) they fail
// instead. When node_modules is missing or does not match the lock file and npm is installed,
// the tests run npm ci in interop/node themselves, so go test ./... needs no extra step.
package interop
