package main

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/telemetry/opsotel"
	"github.com/igniter-go/store/telemetry/opsprom"
)

// floorClients are opt-in (-clients): references, not products. Each is go-redis's deferred
// autopipeliner, one Submit and Wait per command, with the store's own telemetry middleware around
// each command, and nothing else of the store: no keyspace, codec, timeout, retry, breaker or
// executor. Until issue 25 that autopipeliner was the store's engine, and a floor bounded what
// any store with that telemetry could reach; the store now batches on its own lanes
// (internal/executor/lane.go), so a store-* client can pass its floor, and the gap shows what
// the engine and the rest of the store cost or save together.
var floorClients = []string{
	"floor-obs",      // the deferred autopipeliner + the store's Prometheus middleware
	"floor-obs-otel", // + the store's OTel middleware (always-sampled spans, as store-obs-otel)
}

func isFloorClient(name string) bool {
	for _, f := range floorClients {
		if f == name {
			return true
		}
	}
	return false
}

func newFloorClient(name string, opts *redis.Options) (*benchClient, error) {
	rdb := redis.NewClient(opts)
	ap, err := rdb.AsyncAutoPipeline()
	if err != nil {
		_ = rdb.Close()
		return nil, err
	}
	var h ops.Handler = func(ctx context.Context, op ops.Op) (ops.Result, error) {
		var cmd redis.Cmder
		if op.Kind == ops.KVGet {
			cmd = redis.NewStringCmd(ctx, "get", op.Key)
		} else {
			cmd = redis.NewStatusCmd(ctx, "set", op.Key, op.Value)
		}
		return ops.Result{}, ignoreNil(ap.Submit(ctx, cmd).Wait())
	}
	m := opsprom.New()
	prometheus.NewRegistry().MustRegister(m)
	h = m.Middleware()(h)
	var tp *sdktrace.TracerProvider
	if name == "floor-obs-otel" {
		tp = newTracerProvider()
		h = opsotel.New(opsotel.WithTracerProvider(tp)).Middleware()(h)
	}
	return &benchClient{
		get: func(ctx context.Context, k string) error {
			_, err := h(ctx, ops.Op{Kind: ops.KVGet, Service: service, Key: k})
			return err
		},
		set: func(ctx context.Context, k, v string) error {
			_, err := h(ctx, ops.Op{Kind: ops.KVSet, Service: service, Key: k, Value: []byte(v)})
			return err
		},
		close: func() {
			_ = rdb.Close()
			if tp != nil {
				_ = tp.Shutdown(context.Background())
			}
		},
	}, nil
}
