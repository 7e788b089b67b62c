package opsotel

import (
	"slices"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Option configures [New]. A zero value given to an option means its default.
type Option func(*config)

type config struct {
	tp      trace.TracerProvider
	mp      metric.MeterProvider
	address string
	port    int
	buckets []float64
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
