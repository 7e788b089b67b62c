package client

import (
	"context"
	"log/slog"

	"github.com/igniter-go/store/internal/blockconn"
	"github.com/igniter-go/store/internal/executor"
	"github.com/igniter-go/store/ops"
)

// backend is a Store as the feature packages beside client see it (storecore.Store): streams
// runs its operations through it without reaching the core's fields.
type backend struct{ s *Store }

func (b backend) Op(kind ops.Kind) ops.Op    { return b.s.op(kind) }
func (b backend) Key(ns, name string) string { return b.s.prefix.Key(ns, name) }
func (b backend) Logger() *slog.Logger       { return b.s.core.logger }
func (b backend) Blocking() *blockconn.Pool  { return b.s.core.blocking }
func (b backend) MaxPayload() int            { return b.s.core.maxPayload }
func (b backend) Closer() uint64             { return b.s.core.closer.Load() }

func (b backend) Do(ctx context.Context, op ops.Op) (ops.Result, error) { return b.s.do(ctx, op) }

func (b backend) DoDraining(ctx context.Context, op ops.Op) (ops.Result, error) {
	return b.s.core.handler(ctx, op)
}

func (b backend) Reject(ctx context.Context, op ops.Op, err error) (ops.Result, error) {
	return b.s.reject(ctx, op, err)
}

func (b backend) Signal(ctx context.Context, sig ops.Signal) { b.s.signal(ctx, sig) }

func (b backend) WithEntryTrace(ctx context.Context) context.Context {
	if b.s.core.carrier == nil {
		return ctx
	}
	return executor.WithEntryTrace(ctx, b.s.core.carrier)
}

func (b backend) Extract(ctx context.Context, carried string) context.Context {
	return b.s.core.extract(ctx, carried)
}
