package main

import (
	"context"
	"io"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/telemetry"
	"github.com/igniter-go/store/telemetry/opsprom"
)

// The benchClient of each kind of client, shared by the single-node and cluster variants.

// goRedisBench runs GET and SET on a go-redis client (plain, cluster or its AutoPipeline face);
// close ends what the client needs ended.
func goRedisBench(c redis.Cmdable, close func()) *benchClient {
	return &benchClient{
		get:   func(ctx context.Context, k string) error { return ignoreNil(c.Get(ctx, k).Err()) },
		set:   func(ctx context.Context, k, v string) error { return c.Set(ctx, k, v, 0).Err() },
		close: close,
	}
}

// rueidisBench runs GET and SET on c, a miss being no error.
func rueidisBench(c rueidis.Client) *benchClient {
	return &benchClient{
		get: func(ctx context.Context, k string) error {
			err := c.Do(ctx, c.B().Get().Key(k).Build()).Error()
			if rueidis.IsRedisNil(err) {
				return nil
			}
			return err
		},
		set: func(ctx context.Context, k, v string) error {
			return c.Do(ctx, c.B().Set().Key(k).Value(v).Build()).Error()
		},
		close: c.Close,
	}
}

// storeBench runs GET (KV.GetRaw) and SET on st; close ends st and what it was built with.
func storeBench(st *client.Store, close func()) *benchClient {
	return &benchClient{
		get: func(ctx context.Context, k string) error {
			_, _, err := st.KV.GetRaw(ctx, k)
			return err
		},
		set:   func(ctx context.Context, k, v string) error { return st.KV.Set(ctx, k, v, 0) },
		close: close,
	}
}

// observed adds what the -obs clients carry: Prometheus metrics (on a registry of their own) and
// events to a JSON slog logger at info that writes nowhere.
func observed(b *client.Builder) *client.Builder {
	m := opsprom.New()
	prometheus.NewRegistry().MustRegister(m)
	logger := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	return b.WithMetrics(m).WithTelemetry(telemetry.NewSlogSink(logger))
}
