package httpstore

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/ops"
)

// DefaultScopeKey is the scope key the tenant id is applied under when [Options.ScopeKey] is
// empty.
const DefaultScopeKey = "tenant"

// ErrNoTenant is what a [Options.Tenant] function returns (or wraps) when the request names no
// tenant, and what the middleware uses when it returns "": the request is answered 400. It is
// a STORE_SCOPE_IDENTIFIER_REQUIRED error (category ops.ErrInvalid); match it with errors.Is.
var ErrNoTenant error = ops.Invalid(ops.CodeScopeIdentifierRequired, "httpstore.tenant", "the request names no tenant", nil)

// StatusError is an error that tells the middleware which HTTP status to answer with
// (401 for a missing credential, 403 for a tenant the caller may not use, 404…). Err, the
// cause, is optional: &StatusError{Status: 401} alone answers 401. Only an error status (400 to
// 599) is answered; any other Status (0, 200, 302, 999) is ignored, and the error is answered by
// its cause as if it carried no status (500 when Err is nil).
type StatusError struct {
	Status int
	Err    error
}

// Error returns Err's text, or the status text ("Unauthorized") when Err is nil. A nil
// *StatusError (returned as a non-nil error by mistake) is answered 500 like any other error.
func (e *StatusError) Error() string {
	if e == nil {
		return "httpstore: nil *StatusError"
	}
	if e.Err != nil {
		return e.Err.Error()
	}
	if text := http.StatusText(e.Status); text != "" {
		return text
	}
	return "status " + strconv.Itoa(e.Status)
}

// Unwrap returns Err (nil when unset, or for a nil *StatusError).
func (e *StatusError) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.Err
}

// Options configure [New]. Tenant is required; every other zero field means its default.
type Options struct {
	// Tenant returns the tenant id of a request (from a header, the host, a verified token…).
	// Required. It runs on the request's goroutine; a panic in it is recovered and answered
	// like an error: 500, with STORE_CALLBACK_PANIC (value and stack) given to OnError. A panic
	// with http.ErrAbortHandler goes on, so the server aborts the response as net/http intends.
	Tenant func(r *http.Request) (string, error)
	// ScopeKey is the scope the tenant id is applied under: store.Scope(ScopeKey, id). It must be
	// a scope the store declares, if it declares any. Default [DefaultScopeKey].
	ScopeKey string
	// Propagator extracts the caller's trace context from the request headers. Default: the
	// OpenTelemetry global propagator (otel.GetTextMapPropagator), read per request; it extracts
	// nothing until the application calls otel.SetTextMapPropagator.
	Propagator propagation.TextMapPropagator
	// OnError answers a request whose tenant could not be resolved or scoped; status is what
	// the default would answer. Default: [http.Error] with the status and, for a 4xx, the
	// error's text (for a 5xx only the status text, so internals do not leak). It runs on the
	// request's goroutine, unprotected, like the handler: a panic in it goes to the server
	// (net/http's recovers it and logs it).
	OnError func(w http.ResponseWriter, r *http.Request, status int, err error)
}

type ctxKey struct{}

// New returns middleware that serves every request with the store of its tenant (see the
// package documentation). A nil store or a missing Tenant function is
// STORE_CONFIGURATION_INVALID; a ScopeKey the store refuses is the error of [client.Store.Scope].
func New(store *client.Store, opts Options) (func(http.Handler) http.Handler, error) {
	if store == nil || opts.Tenant == nil {
		return nil, ops.Invalid(ops.CodeConfigurationInvalid, "httpstore.new", "httpstore.New needs a store and a Tenant function", nil)
	}
	if opts.ScopeKey == "" {
		opts.ScopeKey = DefaultScopeKey
	}
	// A scope key the store does not declare is a wiring bug: report it now, not as a 400 on
	// every request.
	if _, err := store.Scope(opts.ScopeKey, "probe"); err != nil {
		return nil, err
	}
	if opts.OnError == nil {
		opts.OnError = defaultOnError
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			if !trace.SpanContextFromContext(ctx).IsValid() {
				p := opts.Propagator
				if p == nil {
					p = otel.GetTextMapPropagator()
				}
				ctx = p.Extract(ctx, propagation.HeaderCarrier(r.Header))
				r = r.WithContext(ctx)
			}
			scoped, err := resolve(r, store, opts)
			if err != nil {
				opts.OnError(w, r, Status(err), err)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, ctxKey{}, scoped)))
		})
	}, nil
}

// resolve runs the Tenant function and scopes the store. A panic of Tenant is recovered as
// STORE_CALLBACK_PANIC (answered 500), except http.ErrAbortHandler, which goes on.
func resolve(r *http.Request, store *client.Store, opts Options) (scoped *client.Store, err error) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler { // net/http aborts the response: let it
				panic(v)
			}
			scoped, err = nil, ops.CallbackPanic("httpstore.tenant", v)
		}
	}()
	id, err := opts.Tenant(r)
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, ErrNoTenant
	}
	return store.Scope(opts.ScopeKey, id)
}

// Status is the HTTP status the middleware answers for a resolver or scope error: a
// [StatusError]'s status when it is 400 to 599 (any other is ignored); 400 for [ErrNoTenant] and STORE_* errors of the ops.ErrInvalid
// category (an id the store refuses); 503 when the request was cancelled or timed out; 500
// otherwise (a resolver that panicked, STORE_CALLBACK_PANIC, included).
func Status(err error) int {
	var se *StatusError
	switch {
	case errors.As(err, &se) && se != nil && se.Status >= 400 && se.Status <= 599:
		return se.Status
	case errors.Is(err, ErrNoTenant), errors.Is(err, ops.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), errors.Is(err, ops.ErrCanceled):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func defaultOnError(w http.ResponseWriter, _ *http.Request, status int, err error) {
	msg := http.StatusText(status)
	if status < 500 {
		msg = err.Error()
	}
	http.Error(w, msg, status)
}

// FromContext returns the tenant's store the middleware put in ctx (a request's context, or
// one derived from it).
func FromContext(ctx context.Context) (*client.Store, bool) {
	s, ok := ctx.Value(ctxKey{}).(*client.Store)
	return s, ok
}

// MustFromContext is [FromContext] for handlers that only run behind the middleware; it
// panics when ctx has no store, which is a wiring bug.
func MustFromContext(ctx context.Context) *client.Store {
	s, ok := FromContext(ctx)
	if !ok {
		panic("httpstore: no store in the context: is the handler behind httpstore.New?")
	}
	return s
}
