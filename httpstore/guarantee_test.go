package httpstore_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/httpstore"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/storetest"
)

// newRealStore is a store on a real redis-server, declaring the "organization" scope.
func newRealStore(t *testing.T) (*client.Store, *redistest.Server) {
	srv := redistest.Start(t)
	st := storetest.Connect(t, srv.Client(t), client.New().WithService("api").AddScope("organization"))
	return st, srv
}

// A resolver may answer with a status alone: &StatusError{Status: 401} without Err is a 401
// whose body is the status text, through the default answer and through OnError (which may call
// err.Error()); it must not panic with a nil pointer.
func TestGuaranteeStatusErrorWithoutErrAnswersItsStatus(t *testing.T) {
	st, _ := newRealStore(t)
	unauthorized := func(*http.Request) (string, error) {
		return "", &httpstore.StatusError{Status: http.StatusUnauthorized}
	}
	mw, err := httpstore.New(st, httpstore.Options{Tenant: unauthorized, ScopeKey: "organization"})
	if err != nil {
		t.Fatal(err)
	}
	called := false
	h := mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
	rec := serve(h, nil)
	if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "Unauthorized") {
		t.Fatalf("answer %d %q, want 401 Unauthorized", rec.Code, rec.Body)
	}
	if called {
		t.Fatal("the handler ran for an unauthorized request")
	}

	var text string
	mw, err = httpstore.New(st, httpstore.Options{Tenant: unauthorized, ScopeKey: "organization",
		OnError: func(w http.ResponseWriter, _ *http.Request, status int, err error) {
			text = err.Error()
			w.WriteHeader(status)
		}})
	if err != nil {
		t.Fatal(err)
	}
	if rec := serve(mw(h), nil); rec.Code != http.StatusUnauthorized || text != "Unauthorized" {
		t.Fatalf("OnError: %d, err text %q", rec.Code, text)
	}
	var se *httpstore.StatusError
	if e := error(&httpstore.StatusError{Status: 499}); !errors.As(e, &se) || errors.Unwrap(e) != nil || e.Error() != "status 499" {
		t.Fatalf("a status without a text: %q", e.Error())
	}
}

// A resolver that panics does not take the request down with it: the middleware recovers it and
// answers 500 (the body holds only the status text), OnError receives STORE_CALLBACK_PANIC with
// the panic value and stack, the handler does not run, and the next request is served.
func TestGuaranteeResolverPanicAnswers500(t *testing.T) {
	st, srv := newRealStore(t)
	resolver := func(r *http.Request) (string, error) {
		if r.Header.Get("X-Tenant") == "boom" {
			panic("tenant directory: secret 10.0.0.7 unreachable")
		}
		return fromHeader(r)
	}
	mw, err := httpstore.New(st, httpstore.Options{Tenant: resolver, ScopeKey: "organization"})
	if err != nil {
		t.Fatal(err)
	}
	h := mw(handler(t))
	rec := serve(h, map[string]string{"X-Tenant": "boom"})
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "10.0.0.7") {
		t.Fatalf("answer %d %q, want 500 without the panic's text", rec.Code, rec.Body)
	}
	// The middleware still works: the next request reaches the handler and the tenant's store.
	if rec := serve(h, map[string]string{"X-Tenant": "acme"}); rec.Code != http.StatusOK {
		t.Fatalf("after the panic: %d %q", rec.Code, rec.Body)
	}
	if n, err := srv.Client(t).Exists(t.Context(), "igniter:store:api:organization:acme:kv:last-visit").Result(); err != nil || n != 1 {
		t.Fatalf("the handler's write after the panic: %d %v", n, err)
	}

	var got error
	mw, _ = httpstore.New(st, httpstore.Options{Tenant: resolver, ScopeKey: "organization",
		OnError: func(w http.ResponseWriter, _ *http.Request, status int, err error) {
			got = err
			w.WriteHeader(status)
		}})
	if rec := serve(mw(handler(t)), map[string]string{"X-Tenant": "boom"}); rec.Code != http.StatusInternalServerError {
		t.Fatalf("OnError: %d", rec.Code)
	}
	var pv *ops.PanicValue
	if !ops.HasCode(got, ops.CodeCallbackPanic) || !errors.As(got, &pv) || len(pv.Stack) == 0 ||
		!strings.Contains(pv.Error(), "unreachable") || httpstore.Status(got) != http.StatusInternalServerError {
		t.Fatalf("OnError got %v, want STORE_CALLBACK_PANIC with the value and stack", got)
	}
}

// http.ErrAbortHandler is net/http's way to abort a response on purpose: a resolver that panics
// with it is not turned into a 500; the panic goes on to the server, which aborts the response.
func TestGuaranteeResolverAbortHandlerGoesOn(t *testing.T) {
	st, _ := newRealStore(t)
	mw, err := httpstore.New(st, httpstore.Options{ScopeKey: "organization",
		Tenant: func(*http.Request) (string, error) { panic(http.ErrAbortHandler) }})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Fatalf("recovered %v, want http.ErrAbortHandler", v)
		}
	}()
	serve(mw(handler(t)), nil)
	t.Fatal("the abort did not go on")
}
