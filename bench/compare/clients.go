package main

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"time"

	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/telemetry/opsotel"
)

// allClients, goredis first: it is the baseline of every ratio.
var allClients = []string{
	"goredis",        // plain go-redis, default pool
	"goredis-otel",   // plain go-redis + redisotel.InstrumentTracing, spans as store-obs-otel's
	"store-nopipe",   // the store, default chain + metrics + events, pipelining off
	"store",          // the store, default chain (timeout, retry, breaker), no telemetry
	"store-obs",      // + Prometheus metrics + slog events at info
	"store-obs-otel", // + always-sampled OTel spans, batch span processor
	"store-obs-fd",   // store-obs with PipelineOptions{FullDuplex: true}
	"autopipeline",   // go-redis Client.AutoPipeline() (blocking face, defaults)
	"rueidis",        // rueidis, client-side cache off
	"node",           // the Node original, @igniter-js/store + ioredis, in its own process (node.go)
	"node-autopipe",  // the same with ioredis's enableAutoPipelining
	// store-obs-otel under ParentBased(TraceIDRatioBased(0.1)) (sampled.go)
	storeObsOtel10pct,
}

// benchClient runs one GET or SET of the workload, or, for a client in another process, a whole
// cell (cell, then get and set are nil).
type benchClient struct {
	get   func(ctx context.Context, key string) error
	set   func(ctx context.Context, key, value string) error
	cell  func(load string, callers int, d time.Duration) (result, error)
	about string // printed under the header when set
	close func()
}

// service is the store's service name; the store's keys carry its prefix (see storeKey). The
// Node original uses the same service, so it reads the keys the Go store reads.
const service = "bench"

func newClient(name, addr string, c config) (*benchClient, error) {
	if isNodeClient(name) {
		return newNodeClient(name, addr, c)
	}
	if isClusterClient(name) {
		return newClusterClient(name, c.clusterAddrs) // cluster.go
	}
	opts := &redis.Options{Addr: addr, MaxRetries: -1, ContextTimeoutEnabled: true}
	if isFloorClient(name) {
		return newFloorClient(name, opts)
	}
	switch name {
	case "goredis":
		rdb := redis.NewClient(opts)
		return goRedisBench(rdb, func() { _ = rdb.Close() }), nil
	case "goredis-otel":
		rdb := redis.NewClient(opts)
		tp := newTracerProvider()
		if err := redisotel.InstrumentTracing(rdb, redisotel.WithTracerProvider(tp)); err != nil {
			_ = rdb.Close()
			return nil, err
		}
		return goRedisBench(rdb, func() {
			_ = rdb.Close()
			_ = tp.Shutdown(context.Background())
		}), nil
	case "autopipeline":
		rdb := redis.NewClient(opts)
		ap, err := rdb.AutoPipeline()
		if err != nil {
			return nil, err
		}
		return goRedisBench(ap, func() { _ = rdb.Close() }), nil
	case "rueidis":
		c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}, DisableCache: true})
		if err != nil {
			return nil, err
		}
		return rueidisBench(c), nil
	case "store", "store-obs", "store-obs-otel", "store-nopipe", "store-obs-fd", storeObsOtel10pct:
		return newStore(name, opts)
	}
	return nil, fmt.Errorf("unknown client %q", name)
}

func newStore(name string, opts *redis.Options) (*benchClient, error) {
	rdb := redis.NewClient(opts)
	var ropts []client.RedisOption
	switch name {
	case "store-nopipe":
		ropts = append(ropts, client.WithoutPipelining())
	case "store-obs-fd":
		ropts = append(ropts, client.Pipelining(client.PipelineOptions{FullDuplex: true}))
	}
	b := client.New().WithAdapter(client.Redis(rdb, append(ropts, client.OwnClient())...)).WithService(service)
	if name != "store" {
		b = observed(b)
	}
	var tp *sdktrace.TracerProvider
	switch name {
	case "store-obs-otel":
		tp = newTracerProvider()
	case storeObsOtel10pct:
		tp = newSampledTracerProvider() // sampled.go
	}
	if tp != nil {
		b = b.WithTracing(opsotel.New(opsotel.WithTracerProvider(tp)))
	}
	st, err := b.Build()
	if err != nil {
		_ = rdb.Close()
		if tp != nil {
			_ = tp.Shutdown(context.Background())
		}
		return nil, err
	}
	bc := storeBench(st, func() {
		_ = st.Close()
		if tp != nil {
			_ = tp.Shutdown(context.Background())
		}
	})
	if name == storeObsOtel10pct {
		bc.about = storeObsOtel10pctAbout
	}
	return bc, nil
}

// storeKey is the Redis key the store uses for a KV key of the bench service.
func storeKey(k string) string { return "igniter:store:" + service + ":kv:" + k }

// newTracerProvider samples every span (a -sample share of them below 1) and hands them to a
// batch span processor that exports to discardExporter: the tracing cost a client pays
// in-process, without a collector's.
func newTracerProvider() *sdktrace.TracerProvider {
	sampler := sdktrace.AlwaysSample()
	if sampleRatio < 1 {
		sampler = sdktrace.TraceIDRatioBased(sampleRatio)
	}
	return sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler), sdktrace.WithBatcher(discardExporter{}))
}

// sampleRatio is the -sample flag: the share of operations the traced clients sample (1, every
// one, is the configuration).
var sampleRatio = 1.0

// discardExporter ends every span at the batch processor's export, as a collector that is
// never slow would.
type discardExporter struct{}

func (discardExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardExporter) Shutdown(context.Context) error                             { return nil }

func ignoreNil(err error) error {
	if err == redis.Nil {
		return nil
	}
	return err
}

func startProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); _ = f.Close() }, nil
}
