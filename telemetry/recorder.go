package telemetry

import (
	"context"
	"log/slog"
	"slices"
	"sync"
)

// Recorder is a Sink that keeps every event in memory, for tests. Every level is enabled. The
// zero value is ready to use.
type Recorder struct {
	mu     sync.Mutex
	events []Event // each with its own copy of the attributes
}

var _ Sink = (*Recorder)(nil)

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{} }

// Enabled reports true for every level.
func (r *Recorder) Enabled(context.Context, slog.Level) bool { return true }

// Emit records a copy of e.
func (r *Recorder) Emit(_ context.Context, e Event) {
	e.Attrs = slices.Clone(e.Attrs)
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

// Events returns the recorded events, oldest first. The slice is the caller's.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// Names returns the names of the recorded events, oldest first.
func (r *Recorder) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, len(r.events))
	for i, e := range r.events {
		names[i] = e.Name
	}
	return names
}

// Reset forgets every recorded event.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.events = nil
	r.mu.Unlock()
}

// Attr returns the value of the attribute key of e, and whether e has it.
func (e Event) Attr(key string) (slog.Value, bool) {
	for _, a := range e.Attrs {
		if a.Key == key {
			return a.Value, true
		}
	}
	return slog.Value{}, false
}
