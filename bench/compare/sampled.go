package main

import sdktrace "go.opentelemetry.io/otel/sdk/trace"

// storeObsOtel10pct is store-obs-otel with the sampler production runs instead of sampling
// every span: ParentBased(TraceIDRatioBased(0.1)). The bench's operations have no parent span,
// so the root sampler records one trace in ten, the share a service behind a 10 % edge sampler
// records. Its ratio to store-obs is what tracing costs where users run it (the goal:
// within 10 %). The -sample flag does not change it.
const storeObsOtel10pct = "store-obs-otel-10pct"

// sampledRatio is the root sampler's share of storeObsOtel10pct.
const sampledRatio = 0.1

// storeObsOtel10pctAbout is the line the report prints under its header for storeObsOtel10pct.
const storeObsOtel10pctAbout = "store-obs + OTel spans under ParentBased(TraceIDRatioBased(0.1)), batch span processor; compare with store-obs"

// newSampledTracerProvider is storeObsOtel10pct's tracer provider: the sampler production runs,
// spans handed to a batch processor that exports to discardExporter. The store on it has
// store-obs's metrics and events and the tracer with its default options (newStore).
func newSampledTracerProvider() *sdktrace.TracerProvider {
	return sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(sampledRatio))),
		sdktrace.WithBatcher(discardExporter{}))
}
