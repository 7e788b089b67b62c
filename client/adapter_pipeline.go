package client

import (
	"time"

	"github.com/redis/go-redis/v9"
)

// PipelineOptions configures how the [Redis] adapter pipelines concurrent operations. The zero
// value is the default: pipelining on, half-duplex, on the store's own batcher.
//
// With pipelining on, the short commands of KV, counters, claims, leases, Batch.Get and
// Events.Publish that callers issue at the same time share one write and one read on one
// connection; every op keeps its own reply, error and ctx. Batch.Set (MULTI/EXEC), scans, stream
// commands, blocking reads and pub/sub run on the go-redis client as before. By default the
// store batches them itself: one batch in flight per redis-server (per primary on a
// *redis.ClusterClient), each batch one go-redis pipeline, the next one taking every command
// queued meanwhile; an op whose ctx ends while it is queued is never written. FullDuplex or a
// MaxFlushDelay hand the batching to go-redis's automatic pipeliner
// (redis.Client.AsyncAutoPipeline) instead.
//
// On a *redis.Client the batches run on a clone sharing its pools (Client.WithTimeout), so their
// writes use the client's ReadTimeout as their deadline too, and the store's own hook is never
// added to the caller's client. The caller's own hooks (redisotel's tracing, a logging hook) do
// not run for these pipelined commands, because go-redis does not carry hooks over to a
// WithTimeout clone. The store's telemetry (Builder.WithMetrics, WithTracing, WithTelemetry) sees
// every op. WithoutPipelining keeps every command on the client, under its hooks. A
// *redis.ClusterClient is pipelined per node, through the client itself (its hooks run); every
// store command is marked NoRetry, so go-redis never re-sends a batch whose replies were lost
// (such writes fail with STORE_OUTCOME_UNKNOWN). In the go-redis modes a cluster uses the
// client's own cached deferred autopipeliner (ClusterClient.AsyncAutoPipelineWithOptions: these
// options apply only if nothing asked the client for it before, and ClusterClient.Close stops
// it). A *redis.Ring, or any other UniversalClient, is not pipelined.
type PipelineOptions struct {
	// Disabled sends every command on the go-redis client's pool, one connection per command
	// in flight (the behaviour before pipelining).
	Disabled bool
	// FullDuplex streams commands and replies on one held connection with a writer and a
	// reader (go-redis AutoPipelineOptions.FullDuplex). It pays off on links with a high round
	// trip (another zone, a WAN); on loopback and in one data centre half-duplex is faster
	// (BENCHMARKS.md). In full-duplex mode an op whose ctx ends while it is queued is still
	// written (its reply is discarded).
	FullDuplex bool
	// MaxBatchSize is the most commands one batch carries; the commands queued after it go in
	// the next batch (in go-redis's pipeliner, a soft target). 0: go-redis's default (200).
	MaxBatchSize int
	// MaxFlushDelay makes go-redis's pipeliner wait up to this long for more commands before
	// writing a batch: less CPU per op, more latency. 0: no wait (the default; batches form from
	// the commands that arrive while the previous batch is in flight).
	MaxFlushDelay time.Duration
}

func (o PipelineOptions) autoOptions() *redis.AutoPipelineOptions {
	cfg := redis.DefaultAutoPipelineOptions()
	cfg.FullDuplex = o.FullDuplex
	if o.MaxBatchSize > 0 {
		cfg.MaxBatchSize = o.MaxBatchSize
	}
	cfg.MaxFlushDelay = o.MaxFlushDelay
	return cfg
}

// Pipelining configures the [Redis] adapter's pipelining (on by default; see
// [PipelineOptions]).
func Pipelining(o PipelineOptions) RedisOption { return func(a *redisAdapter) { a.pipeOpts = o } }

// WithoutPipelining turns pipelining off: every command takes a connection of the go-redis
// pool, as a plain go-redis client does. Shorthand for Pipelining(PipelineOptions{Disabled: true}).
func WithoutPipelining() RedisOption {
	return func(a *redisAdapter) { a.pipeOpts.Disabled = true }
}

// startPipeline builds the adapter's pipeline (nil when off or not supported for the client).
func (a *redisAdapter) startPipeline() {
	if a.rdb == nil || a.pipeOpts.Disabled {
		return
	}
	a.pipeErr = a.exec.StartPipeline(a.pipeOpts.autoOptions())
}
