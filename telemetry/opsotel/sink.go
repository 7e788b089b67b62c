package opsotel

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/igniter-go/store/telemetry"
)

// SpanEventSink is a telemetry.Sink that adds catalog events to the recording span of the
// context, as span events with the event's attributes. Events with no recording span, or below
// the sink's level, are skipped before any attribute is built.
type SpanEventSink struct{ min slog.Level }

var _ telemetry.Sink = (*SpanEventSink)(nil)

// NewSpanEventSink returns a sink for events at min and above. slog.LevelDebug adds every
// operation's started and success events (two events per span); slog.LevelWarn keeps only
// retries, failures and breaker changes.
func NewSpanEventSink(min slog.Level) *SpanEventSink { return &SpanEventSink{min: min} }

// Enabled reports whether level is at least the sink's level and ctx has a recording span.
func (s *SpanEventSink) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= s.min && trace.SpanFromContext(ctx).IsRecording()
}

// Emit adds e to the span of ctx.
func (s *SpanEventSink) Emit(ctx context.Context, e telemetry.Event) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	kv := make([]attribute.KeyValue, 0, len(e.Attrs)+1)
	kv = append(kv, attribute.String("level", e.Level.String()))
	for _, a := range e.Attrs {
		kv = append(kv, toKV(a))
	}
	span.AddEvent(e.Name, trace.WithAttributes(kv...))
}

func toKV(a slog.Attr) attribute.KeyValue {
	v := a.Value
	switch v.Kind() {
	case slog.KindString:
		return attribute.String(a.Key, v.String())
	case slog.KindInt64:
		return attribute.Int64(a.Key, v.Int64())
	case slog.KindBool:
		return attribute.Bool(a.Key, v.Bool())
	case slog.KindFloat64:
		return attribute.Float64(a.Key, v.Float64())
	case slog.KindUint64:
		return attribute.Int64(a.Key, int64(v.Uint64()))
	case slog.KindDuration:
		return attribute.Float64(a.Key, v.Duration().Seconds())
	}
	return attribute.String(a.Key, v.String())
}
