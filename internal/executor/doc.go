// Package executor is the end of every store chain: it runs an ops.Op on a go-redis client with
// exactly the commands of the original @igniter-js/store (spec §6–§8) and maps every go-redis
// error to a coded *ops.Error (errors.go). It never retries: retries are the retry
// middleware's, above it.
//
// Every ops.Kind is dispatched from Executor.run: the kinds that send one command are built, sent
// and read in short.go, on every path; the others from one switch. Stream commands are in
// streams.go, the Lua scripts of claims and leases in scripts.go. Blocking reads run on a
// connection of their own that the caller puts in the ctx (WithReadConn). Concurrent callers'
// short commands share batches (pipeline.go), run by the store's lanes (lane.go), one batch in
// flight per redis-server or cluster primary; noretry.go keeps go-redis from re-sending any of
// them once written.
package executor
