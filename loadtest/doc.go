// Command loadtest drives a workload through the store (the real API, the default middleware
// chain) and reports throughput, HDR-histogram latency percentiles per operation, errors by
// STORE_* code and client CPU per operation, as text, JSON (-json, described by the JSON Schema
// in loadtest/report.schema.json: units in the field names, every field present) and a
// self-contained HTML page with charts (-html). Every report starts with the same banner line:
// the target (the embedded miniredis, which shares the harness's CPU, or a real server and its
// version), the scenario and measured time, and the machine.
//
// With no flags it runs the kv scenario for about 10 s on an embedded Redis (miniredis,
// in-process), so it runs anywhere with nothing installed:
//
//	go run ./loadtest
//	go run ./loadtest -scenario mixed -start-redis -duration 30s -html report.html
//	go run ./loadtest -redis 127.0.0.1:6379 -rate 20000 -concurrency 64
//	go run ./loadtest -scenario streams -cluster 127.0.0.1:7000,127.0.0.1:7001
//
// Scenarios (-scenario): kv, counter (per-user rate limiting with package ratelimit), claim,
// events, streams, mixed (see the README). Loops:
// closed (each of -concurrency workers has one call in flight) or open (-rate R: calls start on
// a schedule and latency counts from the scheduled start, correcting coordinated omission as
// wrk2 does). -chaos kills and restarts a redis-server of its own mid-run; -compare runs the
// same workload through plain go-redis and the store, interleaved, and prints the ratios;
// -metrics-addr serves the store's Prometheus metrics during the run.
//
// Durations take a unit (-duration 30s). Bad flags print one line and exit with status 2.
// SIGINT or SIGTERM ends the run early: the partial report is printed, everything the run
// started is stopped, and the exit status is 130.
package main
