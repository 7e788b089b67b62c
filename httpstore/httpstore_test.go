package httpstore_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/httpstore"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/storetest"
)

func fromHeader(r *http.Request) (string, error) {
	switch id := r.Header.Get("X-Tenant"); id {
	case "":
		return "", httpstore.ErrNoTenant
	case "banned":
		return "", &httpstore.StatusError{Status: http.StatusForbidden, Err: errors.New("tenant banned")}
	case "db-down":
		return "", errors.New("tenant directory: connection refused to 10.0.0.7")
	default:
		return id, nil
	}
}

func newStore(t *testing.T) *storetest.Store {
	return storetest.New(t, storetest.WithBuilder(func(b *client.Builder) *client.Builder {
		return b.WithService("api").AddScope("organization")
	}))
}

// handler writes a visit into the tenant's store and answers with the trace id it sees.
func handler(t *testing.T) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := httpstore.MustFromContext(r.Context())
		if err := st.KV.Set(r.Context(), "last-visit", "now", time.Minute); err != nil {
			t.Error(err)
		}
		_, _ = io.WriteString(w, trace.SpanContextFromContext(r.Context()).TraceID().String())
	})
}

func serve(h http.Handler, header map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/orders", nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestRequestGetsItsTenantsStore(t *testing.T) {
	st := newStore(t)
	mw, err := httpstore.New(st.Store, httpstore.Options{Tenant: fromHeader, ScopeKey: "organization"})
	if err != nil {
		t.Fatal(err)
	}
	h := mw(handler(t))
	for _, org := range []string{"acme", "globex"} {
		if rec := serve(h, map[string]string{"X-Tenant": org}); rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", org, rec.Code, rec.Body)
		}
		if !st.Redis.Exists("igniter:store:api:organization:" + org + ":kv:last-visit") {
			t.Errorf("%s: the handler's write is not under the tenant's prefix; keys: %v", org, st.Redis.Keys())
		}
	}
	if n := len(st.Redis.Keys()); n != 2 {
		t.Errorf("keys %v, want one per tenant", st.Redis.Keys())
	}
}

func TestResolverErrorsAnswerWithoutCallingTheHandler(t *testing.T) {
	st := newStore(t)
	mw, err := httpstore.New(st.Store, httpstore.Options{Tenant: fromHeader, ScopeKey: "organization"})
	if err != nil {
		t.Fatal(err)
	}
	called := false
	h := mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
	cases := []struct {
		tenant   string
		status   int
		body     string // in the body
		notInBod string // never in the body
	}{
		{"", http.StatusBadRequest, "names no tenant", ""},
		{"a:b", http.StatusBadRequest, "", ""}, // an id the store refuses (STORE_SCOPE_INVALID)
		{"org*", http.StatusBadRequest, "", ""},
		{"banned", http.StatusForbidden, "tenant banned", ""},
		{"db-down", http.StatusInternalServerError, "Internal Server Error", "10.0.0.7"},
	}
	for _, c := range cases {
		rec := serve(h, map[string]string{"X-Tenant": c.tenant})
		body := rec.Body.String()
		if rec.Code != c.status || !strings.Contains(body, c.body) || c.notInBod != "" && strings.Contains(body, c.notInBod) {
			t.Errorf("tenant %q: %d %q, want %d containing %q", c.tenant, rec.Code, body, c.status, c.body)
		}
	}
	if called {
		t.Error("the handler ran for a request without a valid tenant")
	}
	if len(st.Redis.Keys()) != 0 {
		t.Errorf("keys written: %v", st.Redis.Keys())
	}
}

func TestOnErrorReplacesTheAnswer(t *testing.T) {
	st := newStore(t)
	var got error
	mw, _ := httpstore.New(st.Store, httpstore.Options{Tenant: fromHeader, ScopeKey: "organization",
		OnError: func(w http.ResponseWriter, _ *http.Request, status int, err error) {
			got = err
			w.WriteHeader(status + 1)
		}})
	rec := serve(mw(handler(t)), nil)
	if rec.Code != http.StatusBadRequest+1 || !errors.Is(got, httpstore.ErrNoTenant) {
		t.Fatalf("%d %v", rec.Code, got)
	}
}

func TestNewRejectsBadConfiguration(t *testing.T) {
	st := newStore(t)
	if _, err := httpstore.New(nil, httpstore.Options{Tenant: fromHeader}); !ops.HasCode(err, ops.CodeConfigurationInvalid) {
		t.Errorf("nil store: %v", err)
	}
	if _, err := httpstore.New(st.Store, httpstore.Options{}); !ops.HasCode(err, ops.CodeConfigurationInvalid) {
		t.Errorf("no resolver: %v", err)
	}
	// The store declares "organization" only: the default scope key "tenant" is refused at New.
	if _, err := httpstore.New(st.Store, httpstore.Options{Tenant: fromHeader}); !ops.HasCode(err, ops.CodeInvalidScopeKey) {
		t.Errorf("undeclared scope key: %v", err)
	}
}

const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// With a propagator the caller's trace continues in the handler (and so in the store's spans);
// with none configured (the global default) nothing is extracted; a span already in the
// request's context (an otelhttp handler ran first) is kept.
func TestTraceContinues(t *testing.T) {
	st := newStore(t)
	hdr := map[string]string{"X-Tenant": "acme", "traceparent": traceparent}

	mw, _ := httpstore.New(st.Store, httpstore.Options{Tenant: fromHeader, ScopeKey: "organization", Propagator: propagation.TraceContext{}})
	if got := serve(mw(handler(t)), hdr).Body.String(); got != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("with a propagator: trace %q", got)
	}

	mw, _ = httpstore.New(st.Store, httpstore.Options{Tenant: fromHeader, ScopeKey: "organization"})
	if got := serve(mw(handler(t)), hdr).Body.String(); got != (trace.TraceID{}).String() {
		t.Errorf("with the unset global propagator: trace %q, want none", got)
	}

	mw, _ = httpstore.New(st.Store, httpstore.Options{Tenant: fromHeader, ScopeKey: "organization", Propagator: propagation.TraceContext{}})
	own := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled})
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("X-Tenant", "acme")
	req.Header.Set("traceparent", traceparent)
	req = req.WithContext(trace.ContextWithSpanContext(context.Background(), own))
	rec := httptest.NewRecorder()
	mw(handler(t)).ServeHTTP(rec, req)
	if got := rec.Body.String(); got != own.TraceID().String() {
		t.Errorf("with a span in the context: trace %q, want the server span's %s", got, own.TraceID())
	}
}

func TestFromContextWithoutMiddleware(t *testing.T) {
	if _, ok := httpstore.FromContext(context.Background()); ok {
		t.Error("found a store in an empty context")
	}
	defer func() {
		if recover() == nil {
			t.Error("MustFromContext did not panic")
		}
	}()
	httpstore.MustFromContext(context.Background())
}
