package storecore

import (
	"context"
	"log/slog"

	"github.com/igniter-go/store/internal/blockconn"
	"github.com/igniter-go/store/ops"
)

// Store is one (possibly scoped) store as a feature package sees it. client implements it on
// every *client.Store; a feature holds it and never reaches the core's fields.
type Store interface {
	// Op returns an Op of kind with the store's telemetry identity (service, scope key and
	// depth; never the scope id) and Idempotent set for read-only kinds.
	Op(kind ops.Kind) ops.Op
	// Key returns the full Redis key of name in namespace ns (keyspace.Namespace…), with the
	// store's scope prefix.
	Key(ns, name string) string
	// Do runs op through the chain and the executor. A store that lacks a required scope, or is
	// closed, fails it without running it (through telemetry only).
	Do(ctx context.Context, op ops.Op) (ops.Result, error)
	// DoDraining is Do without the closed check: the acks and dead letters a consume loop sends
	// while Close drains its handlers must still go out.
	DoDraining(ctx context.Context, op ops.Op) (ops.Result, error)
	// Reject fails op with err without running it; telemetry still records it.
	Reject(ctx context.Context, op ops.Op, err error) (ops.Result, error)
	// Signal reports sig, with the store's identity filled in, to the store's observers.
	Signal(ctx context.Context, sig ops.Signal)
	// Logger is the store's logger for background failures.
	Logger() *slog.Logger
	// WithEntryTrace returns ctx set up so that an XADD run with it carries the trace context
	// of its own span (ctx unchanged when no trace carrier is configured).
	WithEntryTrace(ctx context.Context) context.Context
	// Extract returns ctx linked to a carried trace context, or ctx when there is none.
	Extract(ctx context.Context, carried string) context.Context
	// Blocking is the pool of connections for blocking reads and the registry of consume loops
	// of the store's core.
	Blocking() *blockconn.Pool
	// MaxPayload is the largest inbound payload the store decodes (client.Builder.WithMaxPayload).
	MaxPayload() int
	// Closer is the id (internal/goid) of the goroutine running the store's Close, 0 before: a
	// consume loop stopping for Close does not wait for a handler that is that goroutine.
	Closer() uint64
	// GroupSource returns the opaque ops.Signal.Source of the group instance (the full stream
	// key and group) and registers one consume loop on it; release unregisters the loop and
	// reports whether it was the group instance's last one in this store's core.
	GroupSource(key, group string) (source uint64, release func() (last bool))
}
