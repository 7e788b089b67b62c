// Command loadtest drives a closed-loop workload through the store and prints throughput and
// latency percentiles.
//
// With no flags it starts an embedded Redis (miniredis, in-process) so it runs anywhere with
// nothing installed:
//
//	go run ./loadtest
//	go run ./loadtest -redis 127.0.0.1:6379 -duration 30s -concurrency 64 -reads 0.9
//
// Each worker issues one operation at a time (closed loop): KV.Get or KV.Set of a JSON value on
// a random key of a scoped store, in the given read ratio. The report gives operations per
// second and the p50/p99/p99.9 latencies of each operation, measured around the store call.
package main
