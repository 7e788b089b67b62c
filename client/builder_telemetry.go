package client

import (
	"log/slog"

	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/telemetry"
	"github.com/igniter-go/store/telemetry/opsotel"
	"github.com/igniter-go/store/telemetry/opsprom"
)

// Telemetry is opt-in: a Store built without these options emits nothing. All three share the
// outermost chain position, so they see every outcome of a logical operation (validation
// failures, rejections, the last error after retries), in this order: tracing outermost, then
// metrics and events in the order their options were called. Each call adds its output once
// more: call each option once per builder.

// WithTelemetry sends the igniter.store.* catalog events (telemetry.Catalog) of every
// operation and signal to sink: telemetry.NewSlogSink for a log/slog logger,
// opsotel.NewSpanEventSink for span events, telemetry.Multi for several. Default: none.
func (b *Builder) WithTelemetry(sink telemetry.Sink) *Builder {
	if sink == nil {
		return b
	}
	c := b.withSlot(slotTelemetry, ops.Chain(b.slots[slotTelemetry], telemetry.Middleware(sink)))
	return c.WithObserver(telemetry.NewObserver(sink))
}

// WithMetrics counts and times every operation and signal on m, a prometheus.Collector the
// caller registers (nothing goes to the global registry). Default: none.
func (b *Builder) WithMetrics(m *opsprom.Metrics) *Builder {
	if m == nil {
		return b
	}
	c := b.withSlot(slotTelemetry, ops.Chain(b.slots[slotTelemetry], m.Middleware()))
	return c.WithObserver(m)
}

// WithTracing starts one OpenTelemetry CLIENT span per logical operation (covering its
// retries) and records db.client.operation.duration; see opsotel.Middleware for the options
// (providers default to the globals as they are when WithTracing is called). It also makes
// retries, failures and breaker changes span events of the operation's span, and, unless
// WithTraceCarrier set one, carries W3C trace context in event envelopes and stream entries
// (opsotel.TraceCarrier). Default: none.
func (b *Builder) WithTracing(opts ...opsotel.Option) *Builder {
	c := b.withSlot(slotTelemetry, ops.Chain(opsotel.Middleware(opts...), b.slots[slotTelemetry]))
	if c.carrier == nil {
		c = c.WithTraceCarrier(opsotel.NewTraceCarrier())
	}
	return c.WithObserver(telemetry.NewObserver(opsotel.NewSpanEventSink(slog.LevelWarn)))
}
