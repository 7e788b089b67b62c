package httpstore_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/httpstore"
	"github.com/igniter-go/store/storetest"
)

// Each request gets the store of the organization its header names; handlers never scope by
// hand.
func ExampleNew() {
	st, err := storetest.Open(storetest.WithBuilder(func(b *client.Builder) *client.Builder {
		return b.WithService("api").AddScope("organization")
	}))
	if err != nil {
		panic(err)
	}
	defer st.Close()

	mw, err := httpstore.New(st.Store, httpstore.Options{
		ScopeKey: "organization",
		Tenant: func(r *http.Request) (string, error) {
			return r.Header.Get("X-Org"), nil // "" answers 400
		},
	})
	if err != nil {
		panic(err)
	}
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := httpstore.MustFromContext(r.Context()).Counter.Increment(r.Context(), "requests")
		fmt.Fprintf(w, "request %d", n)
	}))

	for _, org := range []string{"acme", "acme", "globex", ""} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("X-Org", org)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Printf("%q: %d %s\n", org, rec.Code, rec.Body.String())
	}
	// Output:
	// "acme": 200 request 1
	// "acme": 200 request 2
	// "globex": 200 request 1
	// "": 400 STORE_SCOPE_IDENTIFIER_REQUIRED: the request names no tenant
}
