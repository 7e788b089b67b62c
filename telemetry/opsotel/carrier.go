package opsotel

import (
	"context"
	"strings"

	"go.opentelemetry.io/otel/propagation"
)

// TraceCarrier moves W3C trace context (traceparent and tracestate) through Redis as one
// string: the traceparent, then ";" and the tracestate when there is one (a traceparent never
// holds a ";"). It implements client.TraceCarrier. The zero value is ready to use.
type TraceCarrier struct{}

var w3c propagation.TraceContext

// NewTraceCarrier returns a TraceCarrier.
func NewTraceCarrier() *TraceCarrier { return &TraceCarrier{} }

// Inject returns the trace context of ctx, or "" when ctx has no valid span context.
func (TraceCarrier) Inject(ctx context.Context) string {
	var h header
	w3c.Inject(ctx, &h)
	if h.state == "" {
		return h.parent
	}
	return h.parent + ";" + h.state
}

// Extract returns ctx with the carried span context as its remote parent, so spans started
// from it join the producer's trace. A malformed string leaves ctx unchanged.
func (TraceCarrier) Extract(ctx context.Context, carried string) context.Context {
	if carried == "" {
		return ctx
	}
	var h header
	h.parent, h.state, _ = strings.Cut(carried, ";")
	return w3c.Extract(ctx, &h)
}

// header is a propagation.TextMapCarrier of the two W3C fields, without a map.
type header struct{ parent, state string }

const (
	traceparent = "traceparent"
	tracestate  = "tracestate"
)

func (h *header) Get(key string) string {
	switch key {
	case traceparent:
		return h.parent
	case tracestate:
		return h.state
	}
	return ""
}

func (h *header) Set(key, value string) {
	switch key {
	case traceparent:
		h.parent = value
	case tracestate:
		h.state = value
	}
}

func (h *header) Keys() []string { return []string{traceparent, tracestate} }
