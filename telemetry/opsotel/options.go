package opsotel

import (
	"slices"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Option configures [New]. A zero value given to an option means its default.
type Option func(*config)

type config struct {
	tp        trace.TracerProvider
	mp        metric.MeterProvider
	address   string
	port      int
	namespace string
	buckets   []float64
	attrs     SpanAttrs
	atStart   bool
}

// WithTracerProvider sets the tracer provider. Default (or nil): otel.GetTracerProvider() at
// the time New is called.
func WithTracerProvider(tp trace.TracerProvider) Option { return func(c *config) { c.tp = tp } }

// WithMeterProvider sets the meter provider. Default (or nil): otel.GetMeterProvider() at the
// time New is called.
func WithMeterProvider(mp metric.MeterProvider) Option { return func(c *config) { c.mp = mp } }

// WithServerAddress sets server.address and server.port (the Redis host and port). Default:
// none (the attributes are left out); an empty host leaves both out, a port of 0 leaves
// server.port out.
func WithServerAddress(host string, port int) Option {
	return func(c *config) { c.address, c.port = host, port }
}

// WithDBNamespace sets db.namespace, on spans and on the duration metric: the database index
// the store's client selects (redis.Options.DB) as a string: "0", "15". Default (or ""): none.
// The conventions require db.namespace when it can be captured reliably; the middleware does not
// see the connection, so only the configuration can tell it.
func WithDBNamespace(ns string) Option { return func(c *config) { c.namespace = ns } }

// SpanAttrs selects the optional attributes of a recorded span: the store's own, which the
// database conventions do not ask for. Combine them with |. Each costs a recorded span CPU (the
// SDK sets, copies and deduplicates every attribute, and the garbage collector scans it: the
// README's tracing table, BenchmarkSpanAttrs) and an unrecorded one nothing.
type SpanAttrs uint8

const (
	// SpanService adds igniter.store.service, the store's service name.
	SpanService SpanAttrs = 1 << iota
	// SpanNamespace adds igniter.store.namespace, the operation's group (kv, counter, claim,
	// lease, batch, events, stream, dev).
	SpanNamespace
	// SpanScope adds igniter.store.scope_key and igniter.store.scope_depth to the operations
	// of scoped stores: the innermost scope's key and the number of scopes, never a scope id.
	SpanScope
	// SpanName adds igniter.store.name, the event string or stream name of publish, subscribe
	// and stream operations. Unlike the others it is built for each recorded span.
	SpanName

	// SpanStore is every store attribute: the spans of earlier versions, which carried them all.
	SpanStore = SpanService | SpanNamespace | SpanScope | SpanName
)

// WithSpanAttrs adds the optional attributes a to every recorded span. Default (or 0): none: a
// span carries the database conventions' attributes (db.system.name, db.operation.name, and
// server.address, server.port and db.namespace when configured; error.type and
// db.response.status_code on failure) and its name is the store operation (kv.get).
func WithSpanAttrs(a SpanAttrs) Option { return func(c *config) { c.attrs = a } }

// WithSamplerAttributes, when on, hands the attributes the conventions list for sampling
// decisions (db.system.name, db.operation.name, server.address, server.port, db.namespace) to
// tracer.Start, where a sampler sees them. Default (or false): they are set once the span is
// known to record, so a span the sampler drops copies no attribute. Turn it on only for a
// sampler that reads attributes: AlwaysSample, NeverSample, TraceIDRatioBased and ParentBased
// of them decide the same either way.
func WithSamplerAttributes(on bool) Option { return func(c *config) { c.atStart = on } }

// WithBuckets sets the explicit bucket boundaries of db.client.operation.duration, in seconds.
// Default (or an empty b): [DefaultBuckets]. b is copied.
func WithBuckets(b []float64) Option {
	b = slices.Clone(b)
	return func(c *config) { c.buckets = b }
}

// DefaultBuckets are the duration histogram's boundaries in seconds: sub-millisecond from 100µs
// up to 10s.
var DefaultBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// The store's attribute keys on spans and on the duration metric.
const (
	AttrService    = "igniter.store.service"
	AttrNamespace  = "igniter.store.namespace" // the operation group: kv, counter, claim, lease…
	AttrOperation  = "igniter.store.operation" // kv.get, claim.once… (metric only: it is the span name)
	AttrScopeKey   = "igniter.store.scope_key"
	AttrScopeDepth = "igniter.store.scope_depth"
	AttrName       = "igniter.store.name" // event string or stream name (publish, subscribe, stream ops)
)

// MetricOperationDuration is the name of the duration histogram (semantic conventions).
const MetricOperationDuration = "db.client.operation.duration"

// ScopeName is the instrumentation scope of the tracer and the meter.
const ScopeName = "github.com/igniter-go/store/telemetry/opsotel"
