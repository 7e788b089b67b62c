package opsotel

import (
	"slices"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/igniter-go/store/ops"
)

// kindAttrs are the values built once per kind, service and scope key: the span name, the
// start options, the attributes set on a recording span, and the metric attributes.
type kindAttrs struct {
	service, scopeKey string
	depth             int
	name              string
	start             []trace.SpanStartOption
	span              []attribute.KeyValue // set once the span is known to record
	metric            []attribute.KeyValue // the metric attributes without error.type
	okRecord          []metric.RecordOption
}

// matches reports whether a holds the values of op. The scope counts only when it is a span
// attribute (SpanScope): otherwise every scope of a service shares one entry.
func (a *kindAttrs) matches(op ops.Op, scoped bool) bool {
	if a.service != op.Service {
		return false
	}
	return !scoped || a.depth == op.ScopeDepth && (op.ScopeDepth == 0 || a.scopeKey == op.ScopeKey)
}

// attrsOf returns the cached values of op's kind, service and scope, building them on first
// use. Scope keys are the declared ones and depths are small, so the cache stays small.
func (m *mw) attrsOf(op ops.Op) *kindAttrs {
	k := op.Kind
	if int(k) >= len(m.byKind) {
		k = ops.KindUnknown
	}
	scoped := m.attrs&SpanScope != 0
	if p := m.byKind[k].Load(); p != nil {
		for _, a := range *p {
			if a.matches(op, scoped) {
				return a
			}
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var list []*kindAttrs
	if p := m.byKind[k].Load(); p != nil {
		for _, a := range *p {
			if a.matches(op, scoped) {
				return a
			}
		}
		list = slices.Clone(*p)
	}
	a := m.build(k, op)
	list = append(list, a)
	m.byKind[k].Store(&list)
	return a
}

// build computes the values of kind k for op's service and scope.
func (m *mw) build(k ops.Kind, op ops.Op) *kindAttrs {
	// The conventions' attributes, which the conventions want at span creation for samplers.
	conv := append([]attribute.KeyValue{semconv.DBSystemNameRedis, semconv.DBOperationName(k.Command())}, m.conn...)
	var own []attribute.KeyValue
	if m.attrs&SpanService != 0 {
		own = append(own, attribute.String(AttrService, op.Service))
	}
	if m.attrs&SpanNamespace != 0 {
		own = append(own, attribute.String(AttrNamespace, k.Group()))
	}
	if m.attrs&SpanScope != 0 && op.ScopeDepth > 0 {
		own = append(own, attribute.String(AttrScopeKey, op.ScopeKey), attribute.Int(AttrScopeDepth, op.ScopeDepth))
	}
	a := &kindAttrs{service: op.Service, scopeKey: op.ScopeKey, depth: op.ScopeDepth, name: k.Operation()}
	a.start = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient)}
	if m.atStart {
		a.start = append(a.start, trace.WithAttributes(conv...))
		a.span = own
	} else {
		a.span = append(slices.Clip(conv), own...)
	}
	a.metric = append(slices.Clip(conv),
		attribute.String(AttrService, op.Service), attribute.String(AttrNamespace, k.Group()),
		attribute.String(AttrOperation, k.Operation()))
	a.okRecord = []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(a.metric...))}
	return a
}
