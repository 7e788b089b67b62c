// Package harness runs the programs of examples/: each one is a func(ctx, *Env, io.Writer)
// error that [Main] runs from `go run ./examples/<name>` — on an embedded miniredis by default,
// on a real Redis with `-redis host:port` or REDIS_ADDR set — and that each example's
// main_test.go runs with [Run] (miniredis) and [RunRedis] (a redis-server the test starts),
// checking its output.
package harness
