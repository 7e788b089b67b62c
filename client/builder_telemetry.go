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
// metrics, then events. Each option replaces its earlier setting (use telemetry.Multi for
// several sinks), so calling one twice never doubles the output.

// telemetryConfig is what the telemetry options set; applyTelemetry turns it into the
// telemetry slot, observers and trace carrier at Build.
type telemetryConfig struct {
	sink    telemetry.Sink
	metrics *opsprom.Metrics
	tracing []opsotel.Option
	traced  bool
}

// WithTelemetry sends the igniter.store.* catalog events (telemetry.Catalog) of every
// operation and signal to sink: telemetry.NewSlogSink for a log/slog logger,
// opsotel.NewSpanEventSink for span events, telemetry.Multi for several. nil turns it off.
// Default: none.
func (b *Builder) WithTelemetry(sink telemetry.Sink) *Builder {
	c := b.clone()
	c.telemetry.sink = sink
	return c
}

// WithMetrics counts and times every operation and signal on m, a prometheus.Collector the
// caller registers (nothing goes to the global registry). nil turns it off. Default: none.
func (b *Builder) WithMetrics(m *opsprom.Metrics) *Builder {
	c := b.clone()
	c.telemetry.metrics = m
	return c
}

// WithTracing starts one OpenTelemetry CLIENT span per logical operation (covering its
// retries) and records db.client.operation.duration; see opsotel.Middleware for the options
// (providers default to the globals as they are at Build). It also makes retries, failures and
// breaker changes span events of the operation's span, and, unless WithTraceCarrier set one,
// carries W3C trace context in event envelopes and stream entries (opsotel.TraceCarrier).
// Default: none.
func (b *Builder) WithTracing(opts ...opsotel.Option) *Builder {
	c := b.clone()
	c.telemetry.tracing = append([]opsotel.Option(nil), opts...)
	c.telemetry.traced = true
	return c
}

// WithoutTracing turns tracing off.
func (b *Builder) WithoutTracing() *Builder {
	c := b.clone()
	c.telemetry.tracing, c.telemetry.traced = nil, false
	return c
}

// applyTelemetry returns a builder whose telemetry slot, observers and carrier hold what the
// telemetry options configured. Build calls it before composing the chain.
func (b *Builder) applyTelemetry() *Builder {
	t := b.telemetry
	c := b.clone()
	var mws []ops.Middleware
	if t.traced {
		mws = append(mws, opsotel.Middleware(t.tracing...))
		if c.carrier == nil {
			c.carrier = opsotel.NewTraceCarrier()
		}
		c.observers = append(c.observers, telemetry.NewObserver(opsotel.NewSpanEventSink(slog.LevelWarn)))
	}
	if t.metrics != nil {
		mws = append(mws, t.metrics.Middleware())
		c.observers = append(c.observers, t.metrics)
	}
	if t.sink != nil {
		mws = append(mws, telemetry.Middleware(t.sink))
		c.observers = append(c.observers, telemetry.NewObserver(t.sink))
	}
	c.slots[slotTelemetry] = nil
	if len(mws) > 0 {
		c.slots[slotTelemetry] = ops.Chain(mws...)
	}
	return c
}
