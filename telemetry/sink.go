package telemetry

import (
	"context"
	"log/slog"
)

// Event is one catalog event as a sink receives it.
type Event struct {
	// Name is the catalog name, e.g. igniter.store.kv.get.success.
	Name string
	// Level is the event's level: debug for started and success, error for error ([ErrorLevel]:
	// info when the outcome is an answer, such as a non-owner release).
	Level slog.Level
	// Attrs are the attributes, base attributes first. The slice is reused after Emit returns:
	// a sink that keeps it must copy it (slices.Clone).
	Attrs []slog.Attr
}

// Sink receives catalog events. Both methods must be safe for concurrent use and fast: they
// run on the path of every store operation.
type Sink interface {
	// Enabled reports whether events of level are wanted. It is asked before any attribute is
	// built, so a sink that wants nothing costs one call per phase.
	Enabled(ctx context.Context, level slog.Level) bool
	// Emit handles one event. It must not keep e.Attrs after it returns.
	Emit(ctx context.Context, e Event)
}

// SlogSink writes events to a log/slog logger: the event name is the message, the attributes
// are the record's attributes, and the logger's own level decides what is enabled (the
// operation events are debug; production loggers at info pay one Enabled call per phase).
type SlogSink struct{ l *slog.Logger }

var _ Sink = (*SlogSink)(nil)

// NewSlogSink returns a sink that logs to l (slog.Default() when nil).
func NewSlogSink(l *slog.Logger) *SlogSink {
	if l == nil {
		l = slog.Default()
	}
	return &SlogSink{l: l}
}

// Enabled reports whether the logger handles level.
func (s *SlogSink) Enabled(ctx context.Context, level slog.Level) bool {
	return s.l.Enabled(ctx, level)
}

// Emit logs e.
func (s *SlogSink) Emit(ctx context.Context, e Event) { s.l.LogAttrs(ctx, e.Level, e.Name, e.Attrs...) }

type multi []Sink

// Multi returns a sink that gives every event to each sink that has its level enabled. Nil
// sinks are skipped.
func Multi(sinks ...Sink) Sink {
	m := make(multi, 0, len(sinks))
	for _, s := range sinks {
		if s != nil {
			m = append(m, s)
		}
	}
	if len(m) == 1 {
		return m[0]
	}
	return m
}

func (m multi) Enabled(ctx context.Context, level slog.Level) bool {
	for _, s := range m {
		if s.Enabled(ctx, level) {
			return true
		}
	}
	return false
}

func (m multi) Emit(ctx context.Context, e Event) {
	for _, s := range m {
		if s.Enabled(ctx, e.Level) {
			s.Emit(ctx, e)
		}
	}
}
