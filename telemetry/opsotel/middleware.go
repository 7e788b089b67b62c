package opsotel

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/igniter-go/store/ops"
)

type mw struct {
	tracer   trace.Tracer
	duration metric.Float64Histogram
	server   []attribute.KeyValue
	// byKind[k] holds the precomputed options of kind k, one entry per service seen;
	// copy-on-write, mu serialises writers.
	byKind []atomic.Pointer[[]*kindAttrs]
	mu     sync.Mutex
	// epoch is when the middleware was built: a duration is the difference of two
	// time.Since(epoch), which read only the monotonic clock (time.Now reads the wall clock too).
	epoch time.Time
}

// kindAttrs are the per-(kind, service) values built once: the span name and start options,
// and the metric attributes of a success.
type kindAttrs struct {
	service, scopeKey string
	depth             int
	name              string
	start             []trace.SpanStartOption
	metric            []attribute.KeyValue // the metric attributes without error.type
	okRecord          []metric.RecordOption
}

func (a *kindAttrs) matches(op ops.Op) bool {
	return a.service == op.Service && a.depth == op.ScopeDepth && (op.ScopeDepth == 0 || a.scopeKey == op.ScopeKey)
}

// newMW builds the span and duration middleware of c (see [Tracer.Middleware]).
func newMW(c config) *mw {
	if c.tp == nil {
		c.tp = otel.GetTracerProvider()
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	if len(c.buckets) == 0 {
		c.buckets = DefaultBuckets
	}
	m := &mw{tracer: c.tp.Tracer(ScopeName), byKind: make([]atomic.Pointer[[]*kindAttrs], len(ops.Kinds())+1), epoch: time.Now()}
	var err error
	m.duration, err = c.mp.Meter(ScopeName).Float64Histogram(MetricOperationDuration,
		metric.WithUnit("s"), metric.WithDescription("Duration of store operations, retries included."),
		metric.WithExplicitBucketBoundaries(c.buckets...))
	if err != nil {
		otel.Handle(err) // the instrument still works (a no-op one is returned with the error)
	}
	if c.address != "" {
		m.server = append(m.server, semconv.ServerAddress(c.address))
		if c.port > 0 {
			m.server = append(m.server, semconv.ServerPort(c.port))
		}
	}
	return m
}

func (m *mw) wrap(next ops.Handler) ops.Handler {
	return func(ctx context.Context, op ops.Op) (ops.Result, error) {
		ka := m.attrsOf(op)
		start := time.Since(m.epoch)
		ctx, span := m.tracer.Start(ctx, ka.name, ka.start...)
		if op.Name != "" && span.IsRecording() {
			span.SetAttributes(attribute.String(AttrName, op.Name))
		}
		res, err := next(ctx, op)
		elapsed := (time.Since(m.epoch) - start).Seconds()
		if err != nil && !ops.Expected(err) {
			et := errorType(err)
			span.SetAttributes(semconv.ErrorTypeKey.String(et))
			span.SetStatus(codes.Error, et)
			m.duration.Record(ctx, elapsed, metric.WithAttributes(append(slices.Clip(ka.metric), semconv.ErrorTypeKey.String(et))...))
		} else {
			m.duration.Record(ctx, elapsed, ka.okRecord...)
		}
		span.End()
		return res, err
	}
}

// errorType is the STORE_* code of err, or _OTHER.
func errorType(err error) string {
	if c := ops.CodeOf(err); c != "" {
		return string(c)
	}
	return semconv.ErrorTypeOther.Value.AsString()
}

// attrsOf returns the cached options of op's kind, service and scope, building them on first
// use. Scope keys are the declared ones and depths are small, so the cache stays small.
func (m *mw) attrsOf(op ops.Op) *kindAttrs {
	k := op.Kind
	if int(k) >= len(m.byKind) {
		k = ops.KindUnknown
	}
	if p := m.byKind[k].Load(); p != nil {
		for _, a := range *p {
			if a.matches(op) {
				return a
			}
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var list []*kindAttrs
	if p := m.byKind[k].Load(); p != nil {
		for _, a := range *p {
			if a.matches(op) {
				return a
			}
		}
		list = slices.Clone(*p)
	}
	common := append([]attribute.KeyValue{
		semconv.DBSystemNameRedis,
		semconv.DBOperationName(k.Command()),
	}, m.server...)
	common = append(common, attribute.String(AttrService, op.Service), attribute.String(AttrNamespace, k.Group()))
	span := slices.Clip(common)
	if op.ScopeDepth > 0 {
		span = append(span, attribute.String(AttrScopeKey, op.ScopeKey), attribute.Int(AttrScopeDepth, op.ScopeDepth))
	}
	met := append(slices.Clip(common), attribute.String(AttrOperation, k.Operation()))
	a := &kindAttrs{
		service: op.Service, scopeKey: op.ScopeKey, depth: op.ScopeDepth,
		name:     k.Operation(),
		start:    []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(span...)},
		metric:   met,
		okRecord: []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(met...))},
	}
	list = append(list, a)
	m.byKind[k].Store(&list)
	return a
}
