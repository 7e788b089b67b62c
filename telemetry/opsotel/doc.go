// Package opsotel traces and measures store operations with OpenTelemetry
// (go.opentelemetry.io/otel).
//
// [New] returns a [Tracer]. Its [Tracer.Middleware] starts one CLIENT span per logical
// operation, covering its retries, with the database semantic conventions (db.system.name=redis,
// db.operation.name, server.address, server.port, error.type) and the store's attributes
// (service, namespace, operation, scope key and depth; never the scope id, a key or a value),
// and records the db.client.operation.duration histogram in seconds with buckets from 100µs.
// Providers are injected with [WithTracerProvider] and [WithMeterProvider] and default to the
// globals; every option left out, or given a zero value, means its default.
//
// [TraceCarrier] carries W3C trace context inside event envelopes and stream entries, so a
// consumer's spans continue the producer's trace. [SpanEventSink] is a telemetry.Sink that adds
// the igniter.store.* catalog events to the current span.
//
// A miss is not an error: a span ends with an error status only for failures, and its
// error.type is the STORE_* code. Error descriptions never hold the text of a cause.
//
// Everything in this package is safe for concurrent use. client.Builder.WithTracing(opsotel.New(…))
// wires it.
package opsotel
