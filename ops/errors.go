package ops

import (
	"context"
	"errors"
	"strings"
)

// The categories every failure falls into. Middleware decides from these, never from strings:
// retry retries only [ErrUnavailable]; the breaker counts only [ErrUnavailable]; telemetry turns
// them into the outcome label of [Outcome]. An [*Error] matches its category with [errors.Is].
var (
	// ErrInvalid: bad input caught before any network call (names, keys, TTLs, schemas,
	// values that cannot be encoded).
	ErrInvalid = errors.New("invalid")
	// ErrNotFound: the thing asked for does not exist. A miss, never a failure of Redis.
	ErrNotFound = errors.New("not found")
	// ErrUnavailable: Redis could not be reached or did not answer (connection refused or
	// reset, I/O timeout, LOADING, TRYAGAIN, CLUSTERDOWN, MASTERDOWN, READONLY). Retrying may help.
	ErrUnavailable = errors.New("unavailable")
	// ErrRejected: a guard refused the call without sending it (open breaker, retry budget,
	// closed store).
	ErrRejected = errors.New("rejected")
	// ErrConflict: someone else holds what the call needs (a claim or lease owned by another).
	ErrConflict = errors.New("conflict")
	// ErrCanceled: the caller's context was canceled or its deadline passed.
	ErrCanceled = errors.New("canceled")
	// ErrFailed: Redis answered with an error reply (WRONGTYPE, NOGROUP…) or stored data could
	// not be decoded. Retrying the same call will not help.
	ErrFailed = errors.New("failed")
)

// Error is the one error type of the store. It carries the original's STORE_* code, the
// operation that failed, a message, optional details, the category and the cause.
//
// errors.Is(err, ops.ErrUnavailable) matches the category; errors.Is/As reach the cause (a
// go-redis error, a json error, context.Canceled…) through Unwrap.
type Error struct {
	// Code is the STORE_* code.
	Code Code
	// Operation is the failing operation ("kv.get", "build", "scope"…); empty when not tied to one.
	Operation string
	// Message is the human-readable message (the original's exact text where it has one).
	Message string
	// Details holds structured context, as the original's details (never values or tenant ids
	// of data operations).
	Details map[string]any
	// Status is the original's statusCode: 400 for bad input, 500 otherwise.
	Status int
	// Category is one of the Err* sentinels of this package.
	Category error
	// Err is the cause; may be nil.
	Err error
}

// Error formats as "STORE_CODE: message: cause".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Code))
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the category and the cause, so errors.Is matches both.
func (e *Error) Unwrap() []error {
	switch {
	case e.Category != nil && e.Err != nil:
		return []error{e.Category, e.Err}
	case e.Category != nil:
		return []error{e.Category}
	case e.Err != nil:
		return []error{e.Err}
	}
	return nil
}

// Is reports whether target is an *Error with the same Code (and only its Code set), so
// errors.Is(err, &ops.Error{Code: ops.CodeTTLInvalid}) works as a code match.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Message == "" && t.Err == nil && t.Category == nil
}

// NewError returns a coded error whose category and status are the code's: [CategoryOf] and
// [StatusOf]. It is the constructor every package uses; [Invalid] and [Failure] are shorthands
// for its common cases. Add details with [Error.WithDetails].
func NewError(code Code, operation, message string, cause error) *Error {
	return &Error{Code: code, Operation: operation, Message: message, Category: CategoryOf(code), Status: StatusOf(code), Err: cause}
}

// WithDetails sets the details of e, an error just built by a constructor of this package, and
// returns e: ops.NewError(code, op, msg, cause).WithDetails(map[string]any{…}).
func (e *Error) WithDetails(details map[string]any) *Error {
	e.Details = details
	return e
}

// Invalid returns the coded error of bad input, with details and no cause. It is
// NewError(code, operation, message, nil).WithDetails(details): give it a code whose category
// is [ErrInvalid] (every *_REQUIRED, *_INVALID and name code).
func Invalid(code Code, operation, message string, details map[string]any) *Error {
	return NewError(code, operation, message, nil).WithDetails(details)
}

// Failure wraps cause as the failure of an operation of kind k. category is [ErrUnavailable]
// (STORE_CONNECTION_FAILED) or anything else for the kind's *_FAILED code ([FailedCode],
// category [ErrFailed]). Context errors always become STORE_TIMEOUT or STORE_CANCELED
// ([ErrCanceled]), whatever category says.
func Failure(k Kind, category error, cause error) *Error {
	switch {
	case errors.Is(cause, context.DeadlineExceeded):
		return NewError(CodeTimeout, k.Operation(), "operation deadline exceeded", cause)
	case errors.Is(cause, context.Canceled):
		return NewError(CodeCanceled, k.Operation(), "operation canceled", cause)
	case category == ErrUnavailable:
		return NewError(CodeConnectionFailed, k.Operation(), k.Operation()+" failed", cause)
	}
	return NewError(FailedCode(k), k.Operation(), k.Operation()+" failed", cause)
}

// CategoryOf returns the category of a code: every error built for the code carries it.
//
// The configuration codes (STORE_ADAPTER_REQUIRED, STORE_SERVICE_REQUIRED,
// STORE_ENVIRONMENT_REQUIRED, STORE_CONFIGURATION_INVALID) are [ErrInvalid]: a store built with
// a missing or wrong setting is bad input caught before any network call, and retrying or
// counting it in the breaker would be wrong.
func CategoryOf(code Code) error {
	switch code {
	case CodeConnectionFailed, CodeNotConnected, CodeOutcomeUnknown:
		return ErrUnavailable
	case CodeCircuitOpen, CodeRetryBudgetExhausted, CodeClosed, CodeSlowConsumer:
		return ErrRejected
	case CodeClaimNotOwner, CodeLeaseLost, CodeLeaseNotAcquired:
		return ErrConflict
	case CodeTimeout, CodeCanceled:
		return ErrCanceled
	case CodeSchemaChannelNotFound:
		return ErrNotFound
	case CodeDeserializationFailed, CodeMessageInvalid, CodeHandlerFailed, CodeCallbackPanic, CodeOperationFailed,
		CodeGetFailed, CodeSetFailed, CodeDeleteFailed, CodeIncrementFailed, CodePublishFailed,
		CodeSubscribeFailed, CodeUnsubscribeFailed, CodeBatchFailed, CodeClaimFailed,
		CodeStreamAppendFailed, CodeStreamReadFailed, CodeStreamGroupCreateFailed, CodeStreamAckFailed,
		CodeStreamRangeFailed, CodeStreamClaimFailed, CodeScanFailed:
		return ErrFailed
	}
	return ErrInvalid
}

// StatusOf returns the original's statusCode for a code: 400 for bad input ([ErrInvalid]), 500
// otherwise — and 500 for the original's configuration group (STORE_ADAPTER_REQUIRED,
// STORE_SERVICE_REQUIRED, STORE_CONFIGURATION_INVALID): its build() throws the first two with
// 500, and a store or option configured wrong is the program's fault, not a request's, although
// all three are [ErrInvalid].
func StatusOf(code Code) int {
	switch code {
	case CodeAdapterRequired, CodeServiceRequired, CodeConfigurationInvalid:
		return 500
	}
	if CategoryOf(code) == ErrInvalid {
		return 400
	}
	return 500
}

// CodeOf returns the code of the first *Error in err's chain, or "" if there is none.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// HasCode reports whether err's chain holds an *Error with the code.
func HasCode(err error, code Code) bool { return err != nil && CodeOf(err) == code }

// outcomes are the categories of Outcome, in its order of precedence.
var outcomes = [...]struct {
	target  error
	outcome string
}{
	{ErrInvalid, "invalid"},
	{ErrNotFound, "not_found"},
	{ErrUnavailable, "unavailable"},
	{ErrRejected, "rejected"},
	{ErrConflict, "conflict"},
	{ErrCanceled, "canceled"},
	{context.Canceled, "canceled"},
	{context.DeadlineExceeded, "canceled"},
}

// Outcome classifies err into a low-cardinality label for metrics and spans:
// ok, invalid, not_found, unavailable, rejected, conflict, canceled or error.
//
// It runs on every failed operation's telemetry path, so an *Error is classified from its
// Category and cause directly: errors.Is on an *Error would allocate the slice of its
// two-error Unwrap for every category it tries. The answer is the same as errors.Is gives.
func Outcome(err error) string {
	if err == nil {
		return "ok"
	}
	e, direct := err.(*Error)
	for _, o := range outcomes {
		if direct {
			if e.Category != nil && errors.Is(e.Category, o.target) || e.Err != nil && errors.Is(e.Err, o.target) {
				return o.outcome
			}
		} else if errors.Is(err, o.target) {
			return o.outcome
		}
	}
	return "error"
}

// Closed is STORE_CLOSED for an operation of kind k on a store that was closed.
func Closed(k Kind) *Error { return NewError(CodeClosed, k.Operation(), "the store is closed", nil) }

// Expected reports whether err is an answer rather than a failure: its [Outcome] is not_found
// (a miss) or conflict (a claim or lease held by another owner, a release by a non-owner).
// Telemetry reports these below error level and does not mark spans as failed.
func Expected(err error) bool {
	switch Outcome(err) {
	case "not_found", "conflict":
		return true
	}
	return false
}
