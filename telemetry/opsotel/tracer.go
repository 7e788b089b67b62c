package opsotel

import (
	"context"
	"log/slog"

	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/telemetry"
)

// Tracer is what client.Builder.WithTracing wires: the span and duration middleware
// ([Tracer.Middleware]), span events for the retries, failures and breaker changes of the
// operation's span ([Tracer.Observe]), and the W3C [TraceCarrier] that carries trace context in
// event envelopes and stream entries.
type Tracer struct {
	TraceCarrier
	mw     *mw
	events ops.Observer
}

// New returns a Tracer configured by opts. Options left out (or given zero values) mean their
// defaults: the global providers as they are when New is called, [DefaultBuckets], no
// server.address or db.namespace, none of the store's optional span attributes ([WithSpanAttrs]),
// attributes set after the sampler's decision ([WithSamplerAttributes]).
func New(opts ...Option) *Tracer {
	var c config
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return &Tracer{mw: newMW(c), events: telemetry.NewObserver(NewSpanEventSink(slog.LevelWarn))}
}

// Middleware returns the tracing and metrics middleware. Put it in the outermost chain position
// so the span covers retries (client.Builder.WithTracing does).
//
// The span is named after the store operation (kv.get, lease.acquire, stream.read), which
// tells kv.expire from kv.touch where db.operation.name (EXPIRE) cannot. Its attributes are
// built once per kind, service and scope key and reused, set only when the span records, and
// the scope id is never one of them.
func (t *Tracer) Middleware() ops.Middleware { return t.mw.wrap }

// Observe records signals of warning level and above (retries, failures, breaker changes) as
// events of the span in ctx.
func (t *Tracer) Observe(ctx context.Context, s ops.Signal) { t.events.Observe(ctx, s) }
