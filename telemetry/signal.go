package telemetry

import (
	"context"
	"log/slog"

	"github.com/igniter-go/store/ops"
)

// signalSpec is the catalog entry of a signal kind.
type signalSpec struct {
	name, group, event string
	level              slog.Level
	keys               []string
}

func sig(group, event string, level slog.Level, keys ...string) signalSpec {
	return signalSpec{name: Prefix + group + "." + event, group: group, event: event, level: level, keys: keys}
}

// signals names each ops.SignalKind in the catalog's style: igniter.store.<group>.<event>.
var signals = map[ops.SignalKind]signalSpec{
	ops.SignalDelivered:       sig("events", "delivered", slog.LevelDebug, AttrEventsChannel, AttrDurationMS),
	ops.SignalDropped:         sig("events", "dropped", slog.LevelWarn, AttrEventsChannel, AttrEventsDropped),
	ops.SignalReconnected:     sig("events", "reconnected", slog.LevelInfo, AttrEventsSubscriptions, AttrDurationMS),
	ops.SignalHandlerFailed:   sig("consumer", "handler_failed", slog.LevelError, AttrEventsChannel, AttrStreamName, AttrStreamGroup, AttrDurationMS, AttrErrorOperation, AttrErrorCode, AttrErrorMessage),
	ops.SignalMessageInvalid:  sig("consumer", "message_invalid", slog.LevelWarn, AttrEventsChannel, AttrStreamName, AttrStreamGroup, AttrErrorOperation, AttrErrorCode, AttrErrorMessage),
	ops.SignalConsumed:        sig("stream", "consumed", slog.LevelDebug, AttrStreamName, AttrStreamGroup, AttrDurationMS),
	ops.SignalRedelivered:     sig("stream", "redelivered", slog.LevelWarn, AttrStreamName, AttrStreamGroup, AttrErrorOperation, AttrErrorCode, AttrErrorMessage),
	ops.SignalReclaimed:       sig("stream", "reclaimed", slog.LevelInfo, AttrStreamName, AttrStreamGroup, AttrStreamCount),
	ops.SignalDeadLettered:    sig("stream", "dead_lettered", slog.LevelError, AttrStreamName, AttrStreamGroup, AttrStreamDeliveries),
	ops.SignalConsumerLag:     sig("stream", "consumer_lag", slog.LevelDebug, AttrStreamName, AttrStreamGroup, AttrStreamLag, AttrStreamPending),
	ops.SignalRetry:           sig("retry", "attempt", slog.LevelWarn, AttrRetryOperation, AttrRetryAttempt, AttrErrorOperation, AttrErrorCode, AttrErrorMessage),
	ops.SignalRetryBudget:     sig("retry", "budget_exhausted", slog.LevelError, AttrRetryOperation, AttrErrorOperation, AttrErrorCode, AttrErrorMessage),
	ops.SignalBreakerState:    sig("breaker", "state_changed", slog.LevelWarn, AttrBreakerName, AttrBreakerFrom, AttrBreakerTo),
	ops.SignalConsumerStopped: sig("stream", "consumer_stopped", slog.LevelDebug, AttrStreamName, AttrStreamGroup),
	ops.SignalRedriveSkipped:  sig("stream", "redrive_skipped", slog.LevelDebug, AttrStreamName, AttrStreamGroup),
	// The near cache's reads are served in memory, outside the chain: these are its only events.
	ops.SignalNearHit:            sig("nearcache", "hit", slog.LevelDebug),
	ops.SignalNearMiss:           sig("nearcache", "miss", slog.LevelDebug),
	ops.SignalNearInvalidated:    sig("nearcache", "invalidated", slog.LevelDebug, AttrNearCacheRemoved),
	ops.SignalNearConnectionLost: sig("nearcache", "connection_lost", slog.LevelWarn, AttrNearCacheRemoved),
	ops.SignalNearFlushed:        sig("nearcache", "flushed", slog.LevelInfo, AttrNearCacheRemoved),
}

func signalDef(k ops.SignalKind) signalSpec {
	if d, ok := signals[k]; ok {
		return d
	}
	return sig("signal", k.String(), slog.LevelInfo)
}

// SignalName returns the event name of a signal kind, e.g. igniter.store.stream.dead_lettered.
func SignalName(k ops.SignalKind) string { return signalDef(k).name }

// SignalLevel returns the level of a signal kind's event.
func SignalLevel(k ops.SignalKind) slog.Level { return signalDef(k).level }

// Observer is an ops.Observer that turns the store's signals into catalog events.
type Observer struct{ sink Sink }

var _ ops.Observer = (*Observer)(nil)

// NewObserver returns an Observer that emits to sink. Register it with
// client.Builder.WithObserver (WithTelemetry does). A nil sink wants nothing.
func NewObserver(sink Sink) *Observer {
	if sink == nil {
		sink = Multi()
	}
	return &Observer{sink: sink}
}

// Observe emits the event of s when its level is enabled. The namespace attribute is the name's
// group, except for the consumer.* events, where it is stream for a consumer group's entry and
// events for a pub/sub message.
func (o *Observer) Observe(ctx context.Context, s ops.Signal) {
	d := signalDef(s.Kind)
	if !o.sink.Enabled(ctx, d.level) {
		return
	}
	buf := getBuf()
	ns := d.group
	if d.group == "consumer" {
		ns = "events"
		if s.Group != "" {
			ns = "stream"
		}
	}
	a := appendBase(buf.a[:0], s.Service, ns, s.ScopeKey, s.ScopeDepth)
	errOp := ""
	switch s.Kind {
	case ops.SignalDelivered:
		a = append(a, slog.String(AttrEventsChannel, s.Name), durationMS(s))
	case ops.SignalDropped:
		a = append(a, slog.String(AttrEventsChannel, s.Name), slog.Int64(AttrEventsDropped, s.N))
	case ops.SignalReconnected:
		a = append(a, slog.Int64(AttrEventsSubscriptions, s.N), durationMS(s))
	case ops.SignalHandlerFailed, ops.SignalMessageInvalid:
		if s.Group != "" {
			a = append(a, slog.String(AttrStreamName, s.Name), slog.String(AttrStreamGroup, s.Group))
			errOp = "stream.consume"
		} else {
			a = append(a, slog.String(AttrEventsChannel, s.Name))
			errOp = "events.deliver"
		}
		if s.Kind == ops.SignalHandlerFailed {
			a = append(a, durationMS(s))
		}
	case ops.SignalConsumed:
		a = append(a, slog.String(AttrStreamName, s.Name), slog.String(AttrStreamGroup, s.Group), durationMS(s))
	case ops.SignalRedelivered:
		a = append(a, slog.String(AttrStreamName, s.Name), slog.String(AttrStreamGroup, s.Group))
		errOp = "stream.consume"
	case ops.SignalReclaimed:
		a = append(a, slog.String(AttrStreamName, s.Name), slog.String(AttrStreamGroup, s.Group), slog.Int64(AttrStreamCount, s.N))
	case ops.SignalDeadLettered:
		a = append(a, slog.String(AttrStreamName, s.Name), slog.String(AttrStreamGroup, s.Group), slog.Int64(AttrStreamDeliveries, s.N))
	case ops.SignalConsumerLag:
		a = append(a, slog.String(AttrStreamName, s.Name), slog.String(AttrStreamGroup, s.Group), slog.Int64(AttrStreamLag, s.N), slog.Int64(AttrStreamPending, s.M))
	case ops.SignalConsumerStopped, ops.SignalRedriveSkipped:
		a = append(a, slog.String(AttrStreamName, s.Name), slog.String(AttrStreamGroup, s.Group))
	case ops.SignalRetry:
		a = append(a, slog.String(AttrRetryOperation, s.Op.Operation()), slog.Int64(AttrRetryAttempt, s.N))
		errOp = s.Op.Operation()
	case ops.SignalRetryBudget:
		a = append(a, slog.String(AttrRetryOperation, s.Op.Operation()))
		errOp = s.Op.Operation()
	case ops.SignalBreakerState:
		a = append(a, slog.String(AttrBreakerName, s.Name), slog.String(AttrBreakerFrom, s.From), slog.String(AttrBreakerTo, s.To))
	case ops.SignalNearInvalidated, ops.SignalNearConnectionLost, ops.SignalNearFlushed:
		a = append(a, slog.Int64(AttrNearCacheRemoved, s.N))
	}
	if errOp != "" {
		a = appendError(a, errOp, s.Err)
	}
	buf.a = a
	o.sink.Emit(ctx, Event{Name: d.name, Level: d.level, Attrs: a})
	putBuf(buf)
}

func durationMS(s ops.Signal) slog.Attr {
	return slog.Float64(AttrDurationMS, float64(s.Duration)/1e6)
}
