// Package opsotel traces and measures store operations with OpenTelemetry
// (go.opentelemetry.io/otel).
//
// [New] returns a [Tracer]. Its [Tracer.Middleware] starts one CLIENT span per logical
// operation, covering its retries, named after the store operation (kv.get), and records the
// db.client.operation.duration histogram in seconds with buckets from 100µs (its attributes:
// db.system.name, db.operation.name, the configured server and namespace, the store's service,
// namespace and operation, and error.type and db.response.status_code on failure). Providers are
// injected with [WithTracerProvider] and [WithMeterProvider] and default to the globals; every
// option left out, or given a zero value, means its default.
//
// # Span attributes
//
// By default a span carries what the Redis database conventions require or recommend and the
// store can know: db.system.name=redis and db.operation.name (the Redis command), server.address
// and server.port when set with [WithServerAddress], db.namespace when set with
// [WithDBNamespace], and on failure error.type (the STORE_* code, or _OTHER for an error that is
// not the store's) and db.response.status_code (the Redis error prefix: ERR, WRONGTYPE…, when
// the failure is an error reply). The store's own attributes (service, namespace, scope key and
// depth, event or stream name) are opt-in with [WithSpanAttrs]. Never a scope id, a key, a
// value or a payload; db.query.text is never set.
//
// # Cost
//
// Attributes are built once per operation kind, service and scope key, and set only on a span
// that records: a span the sampler drops (most of them under ParentBased(TraceIDRatioBased(0.1)))
// costs what the SDK's Start and End cost and nothing more, no attribute copied. Samplers
// therefore see no attribute at Start; [WithSamplerAttributes] hands them the conventions'
// sampling attributes for a sampler that reads them. The duration is measured only when the
// histogram is enabled (a meter provider is set).
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
