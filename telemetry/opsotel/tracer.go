package opsotel

import (
	"context"
	"log/slog"

	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/telemetry"
)

// Tracer is what client.Builder.WithTracing wires: the span [Middleware], span events for the
// retries, failures and breaker changes of the operation's span, and the W3C [TraceCarrier]
// that carries trace context in event envelopes and stream entries.
type Tracer struct {
	TraceCarrier
	mw     ops.Middleware
	events ops.Observer
}

// New returns a Tracer; see [Middleware] for the options. Providers default to the globals as
// they are when New is called.
func New(opts ...Option) *Tracer {
	return &Tracer{mw: Middleware(opts...), events: telemetry.NewObserver(NewSpanEventSink(slog.LevelWarn))}
}

// Middleware returns the span middleware.
func (t *Tracer) Middleware() ops.Middleware { return t.mw }

// Observe records signals of warning level and above (retries, failures, breaker changes) as
// events of the span in ctx.
func (t *Tracer) Observe(ctx context.Context, s ops.Signal) { t.events.Observe(ctx, s) }
