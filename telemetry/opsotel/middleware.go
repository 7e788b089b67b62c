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
	// conn holds server.address, server.port and db.namespace, as configured.
	conn    []attribute.KeyValue
	attrs   SpanAttrs
	atStart bool
	// byKind[k] holds the precomputed attributes of kind k, one entry per service and scope
	// seen; copy-on-write, mu serialises writers.
	byKind []atomic.Pointer[[]*kindAttrs]
	mu     sync.Mutex
	// epoch is when the middleware was built: a duration is the difference of two
	// time.Since(epoch), which read only the monotonic clock (time.Now reads the wall clock too).
	epoch time.Time
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
	m := &mw{tracer: c.tp.Tracer(ScopeName), attrs: c.attrs, atStart: c.atStart,
		byKind: make([]atomic.Pointer[[]*kindAttrs], len(ops.Kinds())+1), epoch: time.Now()}
	var err error
	m.duration, err = c.mp.Meter(ScopeName).Float64Histogram(MetricOperationDuration,
		metric.WithUnit("s"), metric.WithDescription("Duration of store operations, retries included."),
		metric.WithExplicitBucketBoundaries(c.buckets...))
	if err != nil {
		otel.Handle(err) // the instrument still works (a no-op one is returned with the error)
	}
	if c.address != "" {
		m.conn = append(m.conn, semconv.ServerAddress(c.address))
		if c.port > 0 {
			m.conn = append(m.conn, semconv.ServerPort(c.port))
		}
	}
	if c.namespace != "" {
		m.conn = append(m.conn, semconv.DBNamespace(c.namespace))
	}
	return m
}

// wrap is the middleware. Nothing is built for a span the sampler drops: its attributes are
// precomputed per kind (attrsOf) and set only on a recording span, so an unrecorded span costs
// what the SDK's Start and End cost. The duration is read only when the histogram is enabled.
func (m *mw) wrap(next ops.Handler) ops.Handler {
	return func(ctx context.Context, op ops.Op) (ops.Result, error) {
		ka := m.attrsOf(op)
		timed := m.duration.Enabled(ctx)
		var start time.Duration
		if timed {
			start = time.Since(m.epoch)
		}
		ctx, span := m.tracer.Start(ctx, ka.name, ka.start...)
		recording := span.IsRecording()
		if recording {
			if m.attrs&SpanName != 0 && op.Name != "" {
				span.SetAttributes(append(slices.Clip(ka.span), attribute.String(AttrName, op.Name))...)
			} else {
				span.SetAttributes(ka.span...)
			}
		}
		res, err := next(ctx, op)
		var elapsed float64
		if timed {
			elapsed = (time.Since(m.epoch) - start).Seconds()
		}
		if err != nil && !ops.Expected(err) && (timed || recording) {
			et, fa := failure(err)
			if timed {
				m.duration.Record(ctx, elapsed, metric.WithAttributes(append(slices.Clip(ka.metric), fa...)...))
			}
			if recording {
				span.SetAttributes(fa...)
				span.SetStatus(codes.Error, et)
			}
		} else if timed {
			m.duration.Record(ctx, elapsed, ka.okRecord...)
		}
		span.End()
		return res, err
	}
}
