package client

import (
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/telemetry"
)

// Telemetry is opt-in (package doc, "Defaults"): a Store built without these options emits
// nothing. All three share the outermost chain position, so they see every outcome of a logical
// operation (validation failures, rejections, the last error after retries), in this order:
// tracing outermost, then metrics, then events. Each option replaces its earlier setting (use
// telemetry.Multi for several sinks), so calling one twice never doubles the output.

// Instrument is a telemetry provider that takes the outermost chain position and observes the
// store's signals: *opsprom.Metrics for Prometheus, *opsotel.Tracer for OpenTelemetry. The
// client does not import them, so a service that uses neither does not compile their SDKs.
type Instrument interface {
	Middleware() ops.Middleware
	ops.Observer
}

// Preparer is implemented by an [Instrument] that publishes its series before the first event
// (*opsprom.Metrics does), so the dashboards of a quiet service show zeros rather than no data.
// Build calls Prepare once the store is valid, with the service, the declared scope keys (in
// AddScope order) and the breaker's name ("" when WithoutBreaker).
type Preparer interface {
	Prepare(service string, scopeKeys []string, breaker string)
}

// prepareInstruments gives the store's identity to the instruments that are Preparers.
func (b *Builder) prepareInstruments() {
	keys := make([]string, len(b.scopes))
	for i, d := range b.scopes {
		keys[i] = d.key
	}
	for _, in := range []Instrument{b.telemetry.tracing, b.telemetry.metrics} {
		if p, ok := in.(Preparer); ok {
			p.Prepare(b.service, keys, b.breakerName())
		}
	}
}

// telemetryConfig is what the telemetry options set; applyTelemetry turns it into the
// telemetry slot, observers and trace carrier at Build.
type telemetryConfig struct {
	sink    telemetry.Sink
	metrics Instrument
	tracing Instrument
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

// WithMetrics counts and times every operation and signal on m: an *opsprom.Metrics, a
// prometheus.Collector the caller registers (nothing goes to the global registry). nil turns it
// off. Default: none.
func (b *Builder) WithMetrics(m Instrument) *Builder {
	c := b.clone()
	c.telemetry.metrics = m
	return c
}

// WithTracing wires t, an *opsotel.Tracer (opsotel.New(...)): one OpenTelemetry CLIENT span per
// logical operation (covering its retries), db.client.operation.duration, and span events for
// retries, failures and breaker changes. When t is also a [TraceCarrier] and WithTraceCarrier set
// none, it carries W3C trace context in event envelopes and stream entries. nil turns it off.
// Default: none.
func (b *Builder) WithTracing(t Instrument) *Builder {
	c := b.clone()
	c.telemetry.tracing = t
	return c
}

// applyTelemetry returns a builder whose telemetry slot, observers and carrier hold what the
// telemetry options configured. Build calls it before composing the chain.
func (b *Builder) applyTelemetry() *Builder {
	t := b.telemetry
	c := b.clone()
	var mws []ops.Middleware
	if t.tracing != nil {
		mws = append(mws, t.tracing.Middleware())
		if tc, ok := t.tracing.(TraceCarrier); ok && c.carrier == nil {
			c.carrier = tc
		}
		c.observers = append(c.observers, t.tracing)
	}
	if t.metrics != nil {
		mws = append(mws, t.metrics.Middleware())
		c.observers = append(c.observers, t.metrics)
	}
	if t.sink != nil {
		mws = append(mws, telemetry.New(t.sink))
		c.observers = append(c.observers, telemetry.NewObserver(t.sink))
	}
	c.slots[slotTelemetry] = nil
	if len(mws) > 0 {
		c.slots[slotTelemetry] = ops.Chain(mws...)
	}
	return c
}
