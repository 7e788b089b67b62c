// Package bench is a nested module for comparisons with other Redis clients: plain go-redis
// (with and without the redisotel tracing hook), go-redis's automatic pipeliner, rueidis and the
// Node original, @igniter-js/store. It has its own go.mod, so the library never depends on them.
// BENCHMARKS.md has the commands and the results; results/ keeps the raw output of the runs
// BENCHMARKS.md quotes, unedited, each under the command that produced it.
//
// Run from this folder:
//
//	(cd node && npm ci)    # once: the Node original and ioredis, from package-lock.json
//	go run ./compare -d 1s -reps 3
//
// compare starts its own redis-server on a free loopback port and runs every client, cell by
// cell, in a shuffled order each repetition (-clients picks some; goredis is the baseline of
// every ratio):
//
//   - goredis, autopipeline, rueidis: the other Go clients.
//   - goredis-otel: plain go-redis with redisotel.InstrumentTracing at its defaults, on the same
//     always-sampled tracer provider, batch span processor and dropping exporter as
//     store-obs-otel: what tracing costs go-redis, beside what it costs the store.
//   - store, store-nopipe, store-obs, store-obs-otel, store-obs-fd: the store.
//   - floor-obs, floor-obs-otel (opt-in, named in -clients): go-redis's deferred autopipeliner
//     with only the store's Prometheus (and OTel) middleware around each command, nothing else
//     of the store. They bound what any store with that telemetry can reach on the machine.
//   - node, node-autopipe: @igniter-js/store with its ioredis adapter (node-autopipe with
//     ioredis's enableAutoPipelining), one node process per client for the whole run, driven by
//     node/bench.mjs. Its N callers are N async closed loops on one ioredis connection, as the
//     original is used; it reads the same seeded keys as the store (service "bench") and writes
//     the same 100-byte values, JSON-encoded as the store does. Its ops/s and latencies are measured in the node process, and
//     its CPU per op is the node process's own (process.cpuUsage), never this process's.
//     Without node on PATH or without `npm ci` in bench/node, these two are skipped with one
//     line that says so.
//
// The traced clients sample every operation, as the issue measures them; -sample 0.1 samples a
// tenth (a TraceIDRatioBased sampler). store-obs-otel-10pct is store-obs-otel under
// ParentBased(TraceIDRatioBased(0.1)), the common production sampler, in the same run.
// -cluster adds the cluster clients (the store, go-redis's ClusterClient and its AutoPipeline,
// rueidis) on a local 3-primary Redis Cluster the harness starts; their ratios are to the
// ClusterClient.
//
// Client CPU of the Go clients is getrusage(RUSAGE_SELF) of the compare process; the
// redis-server and node processes are not in it. allocs/op and B/op are that process's heap
// allocations per op (runtime/metrics), the harness's own included; the node clients have none.
package bench
