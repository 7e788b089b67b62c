// Command http-integration serves a small users API where every request works on the store of
// its organization, resolved once by the httpstore middleware.
//
// The original's route handlers read store.kv.get(`user:${id}`) from one global store: the
// tenant is whatever the handler remembers to scope (here, nothing: every customer reads every
// other customer's users), and the handler's Redis calls start a trace of their own. Here
// httpstore.New resolves the organization from the request, answers 400 when there is none,
// puts the scoped store in the request's context, and continues the caller's trace.
//
//	go run ./examples/http-integration              # embedded miniredis
//	go run ./examples/http-integration -redis ADDR  # a real Redis
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/examples/internal/harness"
	"github.com/igniter-go/store/httpstore"
)

func main() { harness.Main(run) }

// User is what the API stores.
type User struct {
	Name string `json:"name"`
}

func routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		var u User
		if err := json.NewDecoder(r.Body).Decode(&u); err != nil {
			http.Error(w, "bad user", http.StatusBadRequest)
			return
		}
		st := httpstore.MustFromContext(r.Context())
		if err := st.KV.Set(r.Context(), "user:"+r.PathValue("id"), u, 0); err != nil {
			http.Error(w, "store unavailable", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Trace-Id", trace.SpanContextFromContext(r.Context()).TraceID().String())
		u, found, err := client.GetAs[User](r.Context(), httpstore.MustFromContext(r.Context()).KV, "user:"+r.PathValue("id"))
		switch {
		case err != nil:
			http.Error(w, "store unavailable", http.StatusServiceUnavailable)
		case !found:
			http.Error(w, "no such user", http.StatusNotFound)
		default:
			_ = json.NewEncoder(w).Encode(map[string]User{"user": u})
		}
	})
	return mux
}

func run(ctx context.Context, env *harness.Env, out io.Writer) error {
	st, err := env.Store(client.New().WithService("users-api").AddScope("organization", client.Required()))
	if err != nil {
		return err
	}
	mw, err := httpstore.New(st, httpstore.Options{
		ScopeKey:   "organization",
		Tenant:     func(r *http.Request) (string, error) { return r.Header.Get("X-Org"), nil },
		Propagator: propagation.TraceContext{}, // usually otel.SetTextMapPropagator at startup
	})
	if err != nil {
		return err
	}
	srv := httptest.NewServer(mw(routes())) // a loopback server
	defer srv.Close()

	call := func(method, path, org, body string, header ...string) error {
		req, err := http.NewRequestWithContext(ctx, method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			return err
		}
		if org != "" {
			req.Header.Set("X-Org", org)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		fmt.Fprintf(out, "%-4s %-10s org=%-9s -> %d", method, path, fmt.Sprintf("%q", org), res.StatusCode)
		if text := strings.TrimSpace(string(b)); text != "" {
			fmt.Fprint(out, " ", text)
		}
		if id := res.Header.Get("X-Trace-Id"); id != "" && id != (trace.TraceID{}).String() {
			fmt.Fprintf(out, " (trace %s)", id)
		}
		fmt.Fprintln(out)
		return nil
	}
	for _, c := range []struct{ method, path, org, body string }{
		{"PUT", "/users/u1", "acme", `{"name":"Ada"}`},
		{"GET", "/users/u1", "acme", ""},
		{"GET", "/users/u1", "globex", ""}, // another tenant does not see it
		{"GET", "/users/u1", "", ""},       // no tenant: 400, the handler never runs
		{"GET", "/users/u1", "a:b", ""},    // an id the store refuses: 400
	} {
		if err := call(c.method, c.path, c.org, c.body); err != nil {
			return err
		}
	}
	// The caller's trace continues into the handler (and the store's spans).
	return call("GET", "/users/u1", "acme", "", "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
}
