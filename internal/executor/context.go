package executor

import (
	"context"

	"github.com/redis/go-redis/v9"
)

type readConnKey struct{}

// WithReadConn routes a StreamRead through the chain to rdb, the dedicated connection a blocking
// read holds (internal/blockconn). The executor is the only reader.
func WithReadConn(ctx context.Context, rdb redis.Cmdable) context.Context {
	return context.WithValue(ctx, readConnKey{}, rdb)
}

// readConn returns the connection WithReadConn put in ctx, or def.
func readConn(ctx context.Context, def redis.Cmdable) redis.Cmdable {
	if rdb, ok := ctx.Value(readConnKey{}).(redis.Cmdable); ok {
		return rdb
	}
	return def
}

// Injector writes the trace context of a ctx as a string (client.TraceCarrier has this method).
type Injector interface {
	Inject(ctx context.Context) string
}

type entryTraceKey struct{}

// WithEntryTrace lets the executor inject the trace context of the XADD's own ctx (the span the
// telemetry middleware started) into the entry's trace field.
func WithEntryTrace(ctx context.Context, in Injector) context.Context {
	return context.WithValue(ctx, entryTraceKey{}, in)
}

// entryTrace returns the trace context to write with an entry, or "".
func entryTrace(ctx context.Context) string {
	if in, ok := ctx.Value(entryTraceKey{}).(Injector); ok {
		return in.Inject(ctx)
	}
	return ""
}
