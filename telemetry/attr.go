package telemetry

// The attribute keys of the catalog. Base attributes come first on every event, in this order:
// service, namespace, then scope key and depth when the store is scoped.
const (
	AttrService    = "ctx.store.service"
	AttrNamespace  = "ctx.store.namespace" // the event's group: kv, counter, claim, batch, events, stream, dev…
	AttrScopeKey   = "ctx.store.scope_key" // the innermost scope's key, never its id
	AttrScopeDepth = "ctx.store.scope_depth"

	AttrKVTTL               = "ctx.kv.ttl" // seconds (float64, so sub-second TTLs survive)
	AttrKVFound             = "ctx.kv.found"
	AttrKVExisted           = "ctx.kv.existed"
	AttrCounterDelta        = "ctx.counter.delta"
	AttrCounterValue        = "ctx.counter.value"
	AttrCounterTTL          = "ctx.counter.ttl"
	AttrClaimTTL            = "ctx.claim.ttl"
	AttrClaimAcquired       = "ctx.claim.acquired"
	AttrClaimReleased       = "ctx.claim.released"
	AttrLeaseTTL            = "ctx.lease.ttl"
	AttrLeaseAcquired       = "ctx.lease.acquired"
	AttrLeaseExtended       = "ctx.lease.extended"
	AttrLeaseReleased       = "ctx.lease.released"
	AttrBatchCount          = "ctx.batch.count"
	AttrBatchFound          = "ctx.batch.found"
	AttrEventsChannel       = "ctx.events.channel" // the event string, not the Redis channel
	AttrEventsWildcard      = "ctx.events.wildcard"
	AttrEventsDropped       = "ctx.events.dropped"
	AttrEventsSubscriptions = "ctx.events.subscriptions"
	AttrStreamName          = "ctx.stream.name"
	AttrStreamGroup         = "ctx.stream.group"
	AttrStreamConsumer      = "ctx.stream.consumer"
	AttrStreamCount         = "ctx.stream.count"
	AttrStreamDeliveries    = "ctx.stream.deliveries"
	AttrStreamLag           = "ctx.stream.lag"
	AttrStreamPending       = "ctx.stream.pending"
	AttrRetryOperation      = "ctx.retry.operation"
	AttrRetryAttempt        = "ctx.retry.attempt"
	AttrBreakerName         = "ctx.breaker.name"
	AttrBreakerFrom         = "ctx.breaker.from"
	AttrBreakerTo           = "ctx.breaker.to"
	AttrNearCacheRemoved    = "ctx.nearcache.removed" // entries an invalidation, connection loss or flush removed
	AttrDurationMS          = "ctx.duration_ms"

	AttrErrorOperation = "ctx.error.operation"
	AttrErrorCode      = "ctx.error.code"
	AttrErrorMessage   = "ctx.error.message"
)
