package httpstore_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/igniter-go/store/httpstore"
)

// A resolver that returns a typed nil *StatusError (a common Go slip: `var se *StatusError;
// return "", se`) returns a non-nil error. The middleware must answer it like any resolver error
// (500, the handler not called), not panic with a nil pointer in Status or in the default answer.
func TestGuaranteeTypedNilStatusErrorAnswers500(t *testing.T) {
	st, _ := newRealStore(t)
	typedNil := func(*http.Request) (string, error) {
		var se *httpstore.StatusError
		return "", se
	}
	mw, err := httpstore.New(st, httpstore.Options{Tenant: typedNil, ScopeKey: "organization"})
	if err != nil {
		t.Fatal(err)
	}
	called := false
	h := mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
	func() {
		defer func() {
			if v := recover(); v != nil {
				t.Fatalf("the middleware panicked on a typed nil *StatusError: %v", v)
			}
		}()
		r := serve(h, nil)
		if r.Code != http.StatusInternalServerError || strings.TrimSpace(r.Body.String()) != http.StatusText(http.StatusInternalServerError) {
			t.Fatalf("answer %d %q, want 500 with the status text only", r.Code, r.Body)
		}
	}()
	if called {
		t.Fatal("the handler ran for a request whose resolver failed")
	}
	var nilErr *httpstore.StatusError
	if got := httpstore.Status(nilErr); got != http.StatusInternalServerError {
		t.Fatalf("Status(typed nil *StatusError) = %d, want 500", got)
	}
	if got := nilErr.Error(); got == "" {
		t.Fatal("a nil *StatusError's Error() is empty")
	}
}

// A StatusError's status is answered only when it is an error status (4xx or 5xx); any other
// (0, 200, 302, 999) is answered as a StatusError without a status would be: by its cause, 500
// when it has none. Documented on StatusError and Status.
func TestGuaranteeStatusErrorOutsideErrorStatusesIsAnsweredByItsCause(t *testing.T) {
	st, _ := newRealStore(t)
	for _, c := range []struct {
		status int
		cause  error
		want   int
	}{
		{0, nil, 500}, {200, nil, 500}, {302, nil, 500}, {999, nil, 500}, {-1, nil, 500},
		{200, httpstore.ErrNoTenant, 400}, {400, nil, 400}, {599, nil, 599},
	} {
		se := &httpstore.StatusError{Status: c.status, Err: c.cause}
		mw, err := httpstore.New(st, httpstore.Options{ScopeKey: "organization",
			Tenant: func(*http.Request) (string, error) { return "", se }})
		if err != nil {
			t.Fatal(err)
		}
		called := false
		rec := serve(mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true })), nil)
		if rec.Code != c.want || called {
			t.Errorf("StatusError{%d, %v}: answered %d (handler called %v), want %d", c.status, c.cause, rec.Code, called, c.want)
		}
		if got := httpstore.Status(se); got != c.want {
			t.Errorf("Status(StatusError{%d, %v}) = %d, want %d", c.status, c.cause, got, c.want)
		}
	}
}
