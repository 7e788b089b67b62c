package httpstore_test

import (
	"net/http"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/httpstore"
	"github.com/igniter-go/store/storetest"
	"github.com/igniter-go/store/telemetry/opsotel"
)

// The store's span of the handler's operation is a child of the caller's span, named in the
// request's traceparent header.
func TestStoreSpansJoinTheCallersTrace(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(t.Context())
	st := storetest.New(t, storetest.WithBuilder(func(b *client.Builder) *client.Builder {
		return b.WithService("api").AddScope("organization").Use(opsotel.New(opsotel.WithTracerProvider(tp)).Middleware())
	}))
	mw, err := httpstore.New(st.Store, httpstore.Options{Tenant: fromHeader, ScopeKey: "organization", Propagator: propagation.TraceContext{}})
	if err != nil {
		t.Fatal(err)
	}
	if r := serve(mw(handler(t)), map[string]string{"X-Tenant": "acme", "traceparent": traceparent}); r.Code != http.StatusOK {
		t.Fatalf("%d %s", r.Code, r.Body)
	}
	spans := rec.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want the kv.set span", len(spans))
	}
	sc, parent := spans[0].SpanContext(), spans[0].Parent()
	if sc.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || parent.SpanID().String() != "00f067aa0ba902b7" || !parent.IsRemote() {
		t.Fatalf("store span in trace %s under %s (remote %v), want the caller's", sc.TraceID(), parent.SpanID(), parent.IsRemote())
	}
}
