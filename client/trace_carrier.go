package client

import "context"

// TraceCarrier moves trace context across Redis: Inject writes the context of ctx as a string
// that travels as an optional extra field of event envelopes and stream entries (the original
// ignores it), and Extract gives the consumer a context linked to the producer's. The telemetry
// package provides one for OpenTelemetry.
type TraceCarrier interface {
	Inject(ctx context.Context) string
	Extract(ctx context.Context, carried string) context.Context
}

// inject returns the carried trace context of ctx, or "" when no carrier is set.
func (c *core) inject(ctx context.Context) string {
	if c.carrier == nil {
		return ""
	}
	return c.carrier.Inject(ctx)
}

// extract returns ctx linked to the carried trace context, or ctx when there is none.
func (c *core) extract(ctx context.Context, carried string) context.Context {
	if c.carrier == nil || carried == "" {
		return ctx
	}
	return c.carrier.Extract(ctx, carried)
}
