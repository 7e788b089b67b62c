package opsprom

import "slices"

// The metric names. Dashboards use only these.
const (
	// MetricOperations counts finished operations: labels service, scope_key, namespace,
	// operation, outcome.
	MetricOperations = "igniter_store_operations_total"
	// MetricErrors counts failed operations (every outcome but ok) by their STORE_* code: labels
	// service, scope_key, namespace, operation, code. A series appears with its code's first
	// failure.
	MetricErrors = "igniter_store_errors_total"
	// MetricOperationDuration is the latency of operations in seconds (classic buckets and a
	// native histogram): labels service, scope_key, namespace, operation. A Prometheus that
	// scrapes it classic stores the series MetricOperationDurationBucket (with the label le),
	// MetricOperationDurationCount and MetricOperationDurationSum.
	MetricOperationDuration = "igniter_store_operation_duration_seconds"
	// MetricOperationDurationBucket is the classic histogram's cumulative bucket counter: labels
	// as MetricOperationDuration, plus le.
	MetricOperationDurationBucket = MetricOperationDuration + "_bucket"
	// MetricOperationDurationCount is the classic histogram's count of observations.
	MetricOperationDurationCount = MetricOperationDuration + "_count"
	// MetricOperationDurationSum is the classic histogram's sum of observations, in seconds.
	MetricOperationDurationSum = MetricOperationDuration + "_sum"
	// MetricInFlight is the number of operations running now: labels service, scope_key,
	// namespace, operation.
	MetricInFlight = "igniter_store_operations_in_flight"
	// MetricRetries counts retried attempts: labels service, operation.
	MetricRetries = "igniter_store_retries_total"
	// MetricRetryBudgetExhausted counts retries refused because the budget was spent: labels
	// service, operation.
	MetricRetryBudgetExhausted = "igniter_store_retry_budget_exhausted_total"
	// MetricBreakerState is 1 for the breaker's current state and 0 for the others: labels
	// service, breaker, state (closed, half-open, open).
	MetricBreakerState = "igniter_store_breaker_state"
	// MetricBreakerTransitions counts breaker state changes: labels service, breaker, from, to.
	MetricBreakerTransitions = "igniter_store_breaker_transitions_total"
	// MetricPubSubDelivered counts pub/sub messages given to handlers: label service.
	MetricPubSubDelivered = "igniter_store_pubsub_delivered_total"
	// MetricPubSubDropped counts pub/sub messages dropped by full subscription buffers: label
	// service.
	MetricPubSubDropped = "igniter_store_pubsub_dropped_total"
	// MetricPubSubReconnects counts subscriber reconnections: label service.
	MetricPubSubReconnects = "igniter_store_pubsub_reconnects_total"
	// MetricHandlerFailures counts handler errors and panics: labels service, source (events or
	// stream).
	MetricHandlerFailures = "igniter_store_handler_failures_total"
	// MetricMessagesInvalid counts inbound messages and entries that could not be decoded:
	// labels service, source.
	MetricMessagesInvalid = "igniter_store_messages_invalid_total"
	// MetricHandlerDuration is how long event and stream handlers ran, in seconds (classic
	// buckets and a native histogram; failed runs included): labels service, source. Classic
	// series: MetricHandlerDurationBucket (with le), MetricHandlerDurationCount,
	// MetricHandlerDurationSum.
	MetricHandlerDuration = "igniter_store_handler_duration_seconds"
	// MetricHandlerDurationBucket is the handler histogram's cumulative bucket counter.
	MetricHandlerDurationBucket = MetricHandlerDuration + "_bucket"
	// MetricHandlerDurationCount is the handler histogram's count of observations.
	MetricHandlerDurationCount = MetricHandlerDuration + "_count"
	// MetricHandlerDurationSum is the handler histogram's sum of observations, in seconds.
	MetricHandlerDurationSum = MetricHandlerDuration + "_sum"
	// MetricStreamConsumed counts stream entries handled and acknowledged: labels service,
	// stream, group.
	MetricStreamConsumed = "igniter_store_stream_consumed_total"
	// MetricStreamRedelivered counts failed entries left pending for redelivery: labels
	// service, stream, group.
	MetricStreamRedelivered = "igniter_store_stream_redelivered_total"
	// MetricStreamReclaimed counts idle entries claimed from dead consumers: labels service,
	// stream, group.
	MetricStreamReclaimed = "igniter_store_stream_reclaimed_total"
	// MetricStreamDeadLettered counts entries moved to the dead-letter stream: labels service,
	// stream, group.
	MetricStreamDeadLettered = "igniter_store_stream_dead_lettered_total"
	// MetricStreamConsumerLag is a consumer group's lag (entries not yet delivered): labels
	// service, stream, group.
	MetricStreamConsumerLag = "igniter_store_stream_consumer_lag"
	// MetricStreamPending is a consumer group's pending entries (delivered, not acknowledged):
	// labels service, stream, group.
	MetricStreamPending = "igniter_store_stream_pending"
	// MetricStreamOverflow counts the consume loops (group instances) whose stream and group got
	// no series of their own because [WithMaxStreams] label sets existed already: their signals
	// count under stream and group [StreamOther]. Label service.
	MetricStreamOverflow = "igniter_store_stream_series_overflow_total"
	// MetricNearCacheHits counts near-cache reads answered from process memory (package
	// nearcache): label service.
	MetricNearCacheHits = "igniter_store_nearcache_hits_total"
	// MetricNearCacheMisses counts near-cache reads that were not in memory and went to Redis
	// (a read that waits for another reader's fetch counts a miss, then a hit): label service.
	MetricNearCacheMisses = "igniter_store_nearcache_misses_total"
	// MetricNearCacheInvalidations counts invalidation messages from Redis applied to the near
	// cache (one per key, whether or not it was cached): label service.
	MetricNearCacheInvalidations = "igniter_store_nearcache_invalidations_total"
	// MetricNearCacheConnectionLosses counts near-cache connections lost with cached entries on
	// them: label service.
	MetricNearCacheConnectionLosses = "igniter_store_nearcache_connection_losses_total"
	// MetricNearCacheEvicted counts near-cache entries evicted because the connection that
	// fetched them was lost: label service.
	MetricNearCacheEvicted = "igniter_store_nearcache_evicted_total"
)

// The label names.
const (
	LabelService = "service"
	// LabelScopeKey is the key of the operation's innermost scope (ops.Op.ScopeKey: "tenant",
	// "organization"…), empty for an unscoped store. Scope keys are declared by the
	// application, so the label stays low-cardinality; the scope id is never a label.
	LabelScopeKey  = "scope_key"
	LabelNamespace = "namespace"
	LabelOperation = "operation"
	LabelOutcome   = "outcome"
	// LabelCode is the STORE_* error code of a failed operation (ops.Code).
	LabelCode    = "code"
	LabelBreaker = "breaker"
	LabelState   = "state"
	LabelFrom    = "from"
	LabelTo      = "to"
	LabelSource  = "source"
	LabelStream  = "stream"
	LabelGroup   = "group"
	// LabelLE is the upper bound of a classic histogram bucket (MetricOperationDurationBucket).
	LabelLE = "le"
)

// Values of the outcome label (ops.Outcome).
const (
	OutcomeOK          = "ok"
	OutcomeInvalid     = "invalid"
	OutcomeNotFound    = "not_found"
	OutcomeUnavailable = "unavailable"
	OutcomeRejected    = "rejected"
	OutcomeConflict    = "conflict"
	OutcomeCanceled    = "canceled"
	OutcomeError       = "error"
)

// Values of the state, from and to labels of the breaker metrics.
const (
	BreakerClosed   = "closed"
	BreakerHalfOpen = "half-open"
	BreakerOpen     = "open"
)

// Values of the source label.
const (
	SourceEvents = "events"
	SourceStream = "stream"
)

// Labels returns the label names of each metric of [Names], in their order on the metric
// (classic histogram series add [LabelLE] to their buckets).
func Labels() map[string][]string {
	op := []string{LabelService, LabelScopeKey, LabelNamespace, LabelOperation}
	retry := []string{LabelService, LabelOperation}
	svc := []string{LabelService}
	src := []string{LabelService, LabelSource}
	stream := []string{LabelService, LabelStream, LabelGroup}
	return map[string][]string{
		MetricOperations: append(op[:len(op):len(op)], LabelOutcome), MetricOperationDuration: op, MetricInFlight: op,
		MetricErrors:          append(op[:len(op):len(op)], LabelCode),
		MetricHandlerDuration: src,
		MetricRetries:         retry, MetricRetryBudgetExhausted: retry,
		MetricBreakerState:       {LabelService, LabelBreaker, LabelState},
		MetricBreakerTransitions: {LabelService, LabelBreaker, LabelFrom, LabelTo},
		MetricPubSubDelivered:    svc, MetricPubSubDropped: svc, MetricPubSubReconnects: svc,
		MetricHandlerFailures: src, MetricMessagesInvalid: src,
		MetricStreamConsumed: stream, MetricStreamRedelivered: stream, MetricStreamReclaimed: stream,
		MetricStreamDeadLettered: stream, MetricStreamConsumerLag: stream, MetricStreamPending: stream,
		MetricStreamOverflow: svc,
		MetricNearCacheHits:  svc, MetricNearCacheMisses: svc, MetricNearCacheInvalidations: svc,
		MetricNearCacheConnectionLosses: svc, MetricNearCacheEvicted: svc,
	}
}

// Outcomes returns the values of the outcome label.
func Outcomes() []string { return slices.Clone(outcomes[:]) }

// Names returns every metric name of this package.
func Names() []string {
	return []string{
		MetricOperations, MetricErrors, MetricOperationDuration, MetricInFlight,
		MetricRetries, MetricRetryBudgetExhausted,
		MetricBreakerState, MetricBreakerTransitions,
		MetricPubSubDelivered, MetricPubSubDropped, MetricPubSubReconnects,
		MetricHandlerFailures, MetricHandlerDuration, MetricMessagesInvalid,
		MetricStreamConsumed, MetricStreamRedelivered, MetricStreamReclaimed, MetricStreamDeadLettered,
		MetricStreamConsumerLag, MetricStreamPending, MetricStreamOverflow,
		MetricNearCacheHits, MetricNearCacheMisses, MetricNearCacheInvalidations,
		MetricNearCacheConnectionLosses, MetricNearCacheEvicted,
	}
}

// DefaultBuckets are the classic histogram buckets, in seconds: from 100µs to 10s.
var DefaultBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// outcomes are the values of ops.Outcome, in the order of outcomeIndex.
var outcomes = [...]string{OutcomeOK, OutcomeInvalid, OutcomeNotFound, OutcomeUnavailable, OutcomeRejected, OutcomeConflict, OutcomeCanceled, OutcomeError}

func outcomeIndex(o string) int {
	for i, s := range outcomes {
		if s == o {
			return i
		}
	}
	return len(outcomes) - 1
}

// breakerStates are the states of the state-set gauge.
var breakerStates = []string{BreakerClosed, BreakerHalfOpen, BreakerOpen}
