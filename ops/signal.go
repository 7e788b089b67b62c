package ops

import (
	"context"
	"time"
)

// SignalKind names something that happens outside one Op's call and that telemetry reports:
// deliveries, drops and reconnects of subscriptions, the consume loop's progress, retries and
// breaker transitions, the near cache's hits, misses and invalidations.
type SignalKind uint8

// The signals. Each comment says which fields are set.
const (
	SignalUnknown            SignalKind = iota
	SignalDelivered                     // a pub/sub message reached a handler; Name = event string
	SignalDropped                       // a subscription buffer was full; Name, N = messages dropped
	SignalReconnected                   // a subscriber connection came back and resubscribed; N = channels + patterns
	SignalHandlerFailed                 // a handler returned an error or panicked; Name, Err
	SignalMessageInvalid                // an inbound message or entry could not be decoded; Name, Err
	SignalConsumed                      // a stream entry was handled and acked; Name = stream, Group
	SignalRedelivered                   // a failed entry was left pending for redelivery; Name, Group, Err
	SignalReclaimed                     // idle pending entries were claimed from a dead consumer; Name, Group, N
	SignalDeadLettered                  // an entry went to the dead-letter stream; Name, Group, N = deliveries
	SignalConsumerLag                   // a consumer group's lag and pending count; Name, Group, Source, N = lag, M = pending
	SignalRetry                         // an attempt failed and will be retried; Op, N = attempt that failed, Err
	SignalRetryBudget                   // a retry was due but the budget was spent; Op, Err
	SignalBreakerState                  // the breaker changed state; Name = breaker, From, To
	SignalConsumerStopped               // the last consume loop of a group instance ended; Name, Group, Source
	SignalNearHit                       // a near-cache read was answered from memory
	SignalNearMiss                      // a near-cache read was not in memory and went to Redis
	SignalNearInvalidated               // Redis invalidated a near-cached key; N = entries removed
	SignalNearConnectionLost            // a near-cache connection closed; N = entries it fetched, evicted
	SignalNearFlushed                   // the near cache dropped every entry; N = entries removed
	SignalRedriveSkipped                // a redriven entry meant for another group was acked unhandled; Name = stream, Group
	signalCount
)

var signalNames = [signalCount]string{
	"unknown", "delivered", "dropped", "reconnected", "handler_failed", "message_invalid", "consumed",
	"redelivered", "reclaimed", "dead_lettered", "consumer_lag", "retry", "retry_budget_exhausted", "breaker_state",
	"consumer_stopped", "near_hit", "near_miss", "near_invalidated", "near_connection_lost", "near_flushed",
	"redrive_skipped",
}

// String returns the signal's snake_case name, used in telemetry names.
func (k SignalKind) String() string {
	if k >= signalCount {
		return signalNames[SignalUnknown]
	}
	return signalNames[k]
}

// SignalKinds returns every known SignalKind.
func SignalKinds() []SignalKind {
	out := make([]SignalKind, 0, signalCount-1)
	for k := SignalUnknown + 1; k < signalCount; k++ {
		out = append(out, k)
	}
	return out
}

// Signal is one thing that happened outside an Op's call. Like an Op it never carries keys,
// values, payloads or scope ids.
type Signal struct {
	Kind SignalKind
	// Service, ScopeKey and ScopeDepth identify the store, as on an Op.
	Service    string
	ScopeKey   string
	ScopeDepth int
	// Op is the operation kind a retry signal is about.
	Op Kind
	// Name is the event string, stream name or breaker name.
	Name string
	// Group is the stream consumer group.
	Group string
	// N and M are the signal's numbers (see each kind).
	N, M int64
	// From and To are breaker states.
	From, To string
	// Duration is how long the thing took (a handler's run, a reconnect's outage).
	Duration time.Duration
	// Err is the failure, a coded error.
	Err error
	// Source identifies, opaquely, the group instance of a consume loop's signal (lag,
	// consumed, redelivered, reclaimed, dead-lettered…): the same for every loop of one stream
	// and group of one store (its scope included), different for another tenant's. Gauges add
	// up distinct sources instead of overwriting each other, and metrics keep a stream's series
	// while a source counts under it and drop it at its SignalConsumerStopped. It is a keyed hash
	// whose key never leaves the process, so it reveals no name or id. 0: no source (a signal
	// from a handler that outlived its loop carries none).
	Source uint64
}

// Observer receives signals. Observe must be fast and must not block: it runs on the store's
// delivery, consume and retry paths. It is safe to call from many goroutines.
type Observer interface {
	Observe(ctx context.Context, s Signal)
}

// ObserverFunc adapts a function to an Observer.
type ObserverFunc func(ctx context.Context, s Signal)

// Observe calls f.
func (f ObserverFunc) Observe(ctx context.Context, s Signal) { f(ctx, s) }
