package ops

// Code is a STORE_* error code string. The 45 codes of the original @igniter-js/store keep their
// exact strings; codes this edition adds follow the same style.
type Code string

// The original's 45 codes (IGNITER_STORE_ERROR_CODES), grouped as it groups them.
const (
	// configuration
	CodeAdapterRequired      Code = "STORE_ADAPTER_REQUIRED"
	CodeServiceRequired      Code = "STORE_SERVICE_REQUIRED"
	CodeConfigurationInvalid Code = "STORE_CONFIGURATION_INVALID"
	// scope
	CodeScopeKeyRequired        Code = "STORE_SCOPE_KEY_REQUIRED"
	CodeScopeIdentifierRequired Code = "STORE_SCOPE_IDENTIFIER_REQUIRED"
	CodeScopeInvalid            Code = "STORE_SCOPE_INVALID"
	// key / value
	CodeKeyRequired   Code = "STORE_KEY_REQUIRED"
	CodeValueRequired Code = "STORE_VALUE_REQUIRED"
	CodeTTLInvalid    Code = "STORE_TTL_INVALID"
	// schema
	CodeSchemaValidationFailed Code = "STORE_SCHEMA_VALIDATION_FAILED"
	CodeSchemaChannelNotFound  Code = "STORE_SCHEMA_CHANNEL_NOT_FOUND"
	// serialization
	CodeSerializationFailed   Code = "STORE_SERIALIZATION_FAILED"
	CodeDeserializationFailed Code = "STORE_DESERIALIZATION_FAILED"
	// operations
	CodeOperationFailed   Code = "STORE_OPERATION_FAILED"
	CodeGetFailed         Code = "STORE_GET_FAILED"
	CodeSetFailed         Code = "STORE_SET_FAILED"
	CodeDeleteFailed      Code = "STORE_DELETE_FAILED"
	CodeIncrementFailed   Code = "STORE_INCREMENT_FAILED"
	CodePublishFailed     Code = "STORE_PUBLISH_FAILED"
	CodeSubscribeFailed   Code = "STORE_SUBSCRIBE_FAILED"
	CodeUnsubscribeFailed Code = "STORE_UNSUBSCRIBE_FAILED"
	// batch
	CodeBatchFailed          Code = "STORE_BATCH_FAILED"
	CodeBatchKeysRequired    Code = "STORE_BATCH_KEYS_REQUIRED"
	CodeBatchEntriesRequired Code = "STORE_BATCH_ENTRIES_REQUIRED"
	// claim
	CodeClaimFailed Code = "STORE_CLAIM_FAILED"
	// streams
	CodeStreamAppendFailed      Code = "STORE_STREAM_APPEND_FAILED"
	CodeStreamReadFailed        Code = "STORE_STREAM_READ_FAILED"
	CodeStreamGroupCreateFailed Code = "STORE_STREAM_GROUP_CREATE_FAILED"
	CodeStreamAckFailed         Code = "STORE_STREAM_ACK_FAILED"
	CodeStreamNameRequired      Code = "STORE_STREAM_NAME_REQUIRED"
	CodeStreamGroupRequired     Code = "STORE_STREAM_GROUP_REQUIRED"
	CodeStreamConsumerRequired  Code = "STORE_STREAM_CONSUMER_REQUIRED"
	// scan
	CodeScanFailed          Code = "STORE_SCAN_FAILED"
	CodeScanPatternRequired Code = "STORE_SCAN_PATTERN_REQUIRED"
	// connection
	CodeConnectionFailed Code = "STORE_CONNECTION_FAILED"
	CodeNotConnected     Code = "STORE_NOT_CONNECTED"
	// names
	CodeInvalidNamespace   Code = "STORE_INVALID_NAMESPACE"
	CodeReservedNamespace  Code = "STORE_RESERVED_NAMESPACE"
	CodeDuplicateNamespace Code = "STORE_DUPLICATE_NAMESPACE"
	CodeInvalidEventName   Code = "STORE_INVALID_EVENT_NAME"
	CodeDuplicateEvent     Code = "STORE_DUPLICATE_EVENT"
	CodeMissingNamespace   Code = "STORE_MISSING_NAMESPACE"
	// scope definitions
	CodeDuplicateScope      Code = "STORE_DUPLICATE_SCOPE"
	CodeInvalidScopeKey     Code = "STORE_INVALID_SCOPE_KEY"
	CodeEnvironmentRequired Code = "STORE_ENVIRONMENT_REQUIRED"
)

// Codes this edition adds for what the original does not do or does not report.
const (
	// CodeServiceInvalid: a service name with ':', glob characters, white space or control
	// characters, which would make keys ambiguous.
	CodeServiceInvalid Code = "STORE_SERVICE_INVALID"
	// CodeScopeRequired: a data operation on a store that lacks a scope declared Required().
	CodeScopeRequired Code = "STORE_SCOPE_REQUIRED"
	// CodeTimeout: the operation's deadline passed.
	CodeTimeout Code = "STORE_TIMEOUT"
	// CodeCanceled: the caller's context was canceled.
	CodeCanceled Code = "STORE_CANCELED"
	// CodeClosed: the store (or subscription, or consumer) was closed.
	CodeClosed Code = "STORE_CLOSED"
	// CodeCircuitOpen: the circuit breaker is open and rejected the call without sending it.
	CodeCircuitOpen Code = "STORE_CIRCUIT_OPEN"
	// CodeRetryBudgetExhausted: a retry was due but the retry budget was spent.
	CodeRetryBudgetExhausted Code = "STORE_RETRY_BUDGET_EXHAUSTED"
	// CodeClaimNotOwner: a release or extend by someone who does not hold the claim.
	CodeClaimNotOwner Code = "STORE_CLAIM_NOT_OWNER"
	// CodeLeaseLost: the lease expired or was taken by another owner.
	CodeLeaseLost Code = "STORE_LEASE_LOST"
	// CodeLeaseNotAcquired: the lease is held by someone else (and waiting, if asked, ran out).
	CodeLeaseNotAcquired Code = "STORE_LEASE_NOT_ACQUIRED"
	// CodeMessageInvalid: an inbound pub/sub message or stream entry that cannot be decoded.
	CodeMessageInvalid Code = "STORE_MESSAGE_INVALID"
	// CodeHandlerFailed: a subscription or consumer handler returned an error or panicked.
	CodeHandlerFailed Code = "STORE_HANDLER_FAILED"
	// CodeStreamRangeFailed: XRANGE / XREVRANGE failed.
	CodeStreamRangeFailed Code = "STORE_STREAM_RANGE_FAILED"
	// CodeScanCursorInvalid: a scan cursor that no earlier scan returned.
	CodeScanCursorInvalid Code = "STORE_SCAN_CURSOR_INVALID"
	// CodeStreamClaimFailed: XAUTOCLAIM / XPENDING failed.
	CodeStreamClaimFailed Code = "STORE_STREAM_CLAIM_FAILED"
	// CodeSlowConsumer: a subscription's buffer was full and messages were dropped.
	CodeSlowConsumer Code = "STORE_SLOW_CONSUMER"
	// CodeOutcomeUnknown: the command reached Redis but its reply was lost (the connection
	// dropped or timed out after the write), so it may or may not have been applied. Category
	// [ErrUnavailable]: the retry middleware retries it only when the Op is idempotent.
	CodeOutcomeUnknown Code = "STORE_OUTCOME_UNKNOWN"
	// CodeCallbackPanic: user code the library called on a goroutine of its own (a loader, a
	// hook, an OnError or OnEvent callback, a leader's Run function, a resolver) panicked. The
	// error wraps a [*PanicValue] holding the value and the stack; the recipe goes on working.
	CodeCallbackPanic Code = "STORE_CALLBACK_PANIC"
)

// OriginalCodes lists the 45 codes of @igniter-js/store, in its order.
func OriginalCodes() []Code {
	return []Code{
		CodeAdapterRequired, CodeServiceRequired, CodeConfigurationInvalid,
		CodeScopeKeyRequired, CodeScopeIdentifierRequired, CodeScopeInvalid,
		CodeKeyRequired, CodeValueRequired, CodeTTLInvalid,
		CodeSchemaValidationFailed, CodeSchemaChannelNotFound,
		CodeSerializationFailed, CodeDeserializationFailed,
		CodeOperationFailed, CodeGetFailed, CodeSetFailed, CodeDeleteFailed, CodeIncrementFailed,
		CodePublishFailed, CodeSubscribeFailed, CodeUnsubscribeFailed,
		CodeBatchFailed, CodeBatchKeysRequired, CodeBatchEntriesRequired,
		CodeClaimFailed,
		CodeStreamAppendFailed, CodeStreamReadFailed, CodeStreamGroupCreateFailed, CodeStreamAckFailed,
		CodeStreamNameRequired, CodeStreamGroupRequired, CodeStreamConsumerRequired,
		CodeScanFailed, CodeScanPatternRequired,
		CodeConnectionFailed, CodeNotConnected,
		CodeInvalidNamespace, CodeReservedNamespace, CodeDuplicateNamespace, CodeInvalidEventName,
		CodeDuplicateEvent, CodeMissingNamespace,
		CodeDuplicateScope, CodeInvalidScopeKey, CodeEnvironmentRequired,
	}
}

// Codes lists every code: the original's 45 ([OriginalCodes]) and then the ones this edition
// adds, in declaration order.
func Codes() []Code {
	return append(OriginalCodes(),
		CodeServiceInvalid, CodeScopeRequired, CodeTimeout, CodeCanceled, CodeClosed, CodeCircuitOpen,
		CodeRetryBudgetExhausted, CodeClaimNotOwner, CodeLeaseLost, CodeLeaseNotAcquired,
		CodeMessageInvalid, CodeHandlerFailed, CodeStreamRangeFailed, CodeStreamClaimFailed,
		CodeSlowConsumer, CodeScanCursorInvalid, CodeOutcomeUnknown, CodeCallbackPanic,
	)
}

// FailedCode is the code for a failure of a Kind that reached Redis (or tried to): the
// original's per-operation *_FAILED code.
func FailedCode(k Kind) Code {
	switch k {
	case KVGet, KVExists:
		return CodeGetFailed
	case KVSet, KVExpire, KVTouch, CounterExpire, KVSetIfAbsent:
		return CodeSetFailed
	case KVRemove:
		return CodeDeleteFailed
	case CounterIncrement, CounterDecrement, CounterGCRA:
		return CodeIncrementFailed
	case ClaimOnce, ClaimRelease, LeaseAcquire, LeaseExtend, LeaseRelease:
		return CodeClaimFailed
	case BatchGet, BatchSet:
		return CodeBatchFailed
	case EventsPublish:
		return CodePublishFailed
	case EventsSubscribe:
		return CodeSubscribeFailed
	case EventsUnsubscribe:
		return CodeUnsubscribeFailed
	case StreamAppend:
		return CodeStreamAppendFailed
	case StreamRange:
		return CodeStreamRangeFailed
	case StreamEnsure:
		return CodeStreamGroupCreateFailed
	case StreamRead:
		return CodeStreamReadFailed
	case StreamAck:
		return CodeStreamAckFailed
	case StreamClaim, StreamPending:
		return CodeStreamClaimFailed
	case DevScan:
		return CodeScanFailed
	}
	return CodeOperationFailed
}
