// Package bench is a nested module for comparisons with other Redis clients (rueidis, go-redis's
// automatic pipeliner). It has its own go.mod, so the library never depends on them. Run
// `go run ./compare` from this folder; BENCHMARKS.md has the commands and the results.
package bench
