package opsprom_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/telemetry/opsprom"
)

// A prepared store has a zero series for each operation and signal before any event, and its
// breaker reads closed.
func TestPrepareBeforeTheFirstEvent(t *testing.T) {
	m := opsprom.New()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(m)
	m.Prepare("shop", []string{"tenant"}, "redis")

	kinds := len(ops.Kinds())
	for name, want := range map[string]int{
		opsprom.MetricOperations:                kinds * 2 * len(opsprom.Outcomes()), // unscoped + tenant
		opsprom.MetricInFlight:                  kinds * 2,
		opsprom.MetricRetries:                   kinds,
		opsprom.MetricRetryBudgetExhausted:      kinds,
		opsprom.MetricPubSubDelivered:           1,
		opsprom.MetricPubSubDropped:             1,
		opsprom.MetricPubSubReconnects:          1,
		opsprom.MetricHandlerFailures:           2,
		opsprom.MetricMessagesInvalid:           2,
		opsprom.MetricHandlerDuration:           2,
		opsprom.MetricErrors:                    0, // appears with a code's first failure
		opsprom.MetricBreakerState:              3,
		opsprom.MetricBreakerTransitions:        4,
		opsprom.MetricOperationDuration:         kinds * 2, // empty histograms
		opsprom.MetricStreamDeadLettered:        0,         // appears with the group's first lag report
		opsprom.MetricNearCacheHits:             1,
		opsprom.MetricNearCacheMisses:           1,
		opsprom.MetricNearCacheInvalidations:    1,
		opsprom.MetricNearCacheConnectionLosses: 1,
		opsprom.MetricNearCacheEvicted:          1,
	} {
		n, err := testutil.GatherAndCount(reg, name)
		if err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Errorf("%s: %d series, want %d", name, n, want)
		}
	}
	want := `
# HELP igniter_store_breaker_state 1 for the circuit breaker's current state, 0 for the others.
# TYPE igniter_store_breaker_state gauge
igniter_store_breaker_state{breaker="redis",service="shop",state="closed"} 1
igniter_store_breaker_state{breaker="redis",service="shop",state="half-open"} 0
igniter_store_breaker_state{breaker="redis",service="shop",state="open"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), opsprom.MetricBreakerState); err != nil {
		t.Fatal(err)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
}

// A second store of the same service and breaker does not reset a breaker that is open.
func TestPrepareKeepsAnOpenBreaker(t *testing.T) {
	m := opsprom.New()
	m.Prepare("shop", nil, "redis")
	m.Observe(context.Background(), ops.Signal{Kind: ops.SignalBreakerState, Service: "shop", Name: "redis",
		From: opsprom.BreakerClosed, To: opsprom.BreakerOpen})
	m.Prepare("shop", nil, "redis")
	want := `
# HELP igniter_store_breaker_state 1 for the circuit breaker's current state, 0 for the others.
# TYPE igniter_store_breaker_state gauge
igniter_store_breaker_state{breaker="redis",service="shop",state="closed"} 0
igniter_store_breaker_state{breaker="redis",service="shop",state="half-open"} 0
igniter_store_breaker_state{breaker="redis",service="shop",state="open"} 1
`
	if err := testutil.CollectAndCompare(m, strings.NewReader(want), opsprom.MetricBreakerState); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(m, opsprom.MetricBreakerState); n != 3 {
		t.Fatalf("%d breaker series", n)
	}
	m.Prepare("shop", nil, "") // no breaker: no breaker series
	if n := testutil.CollectAndCount(m, opsprom.MetricBreakerTransitions); n != 4 {
		t.Fatalf("%d transition series", n)
	}
}

// A group's consumer counters exist from its loop's first signal (here a lag report), at zero.
func TestLagReportCreatesTheGroupCounters(t *testing.T) {
	m := opsprom.New()
	m.Observe(context.Background(), ops.Signal{Kind: ops.SignalConsumerLag, Service: "shop", Name: "orders", Group: "billing", N: 3, Source: 1})
	want := `
# HELP igniter_store_stream_dead_lettered_total Stream entries moved to the dead-letter stream.
# TYPE igniter_store_stream_dead_lettered_total counter
igniter_store_stream_dead_lettered_total{group="billing",service="shop",stream="orders"} 0
`
	if err := testutil.CollectAndCompare(m, strings.NewReader(want), opsprom.MetricStreamDeadLettered); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{opsprom.MetricStreamConsumed, opsprom.MetricStreamRedelivered, opsprom.MetricStreamReclaimed} {
		if n := testutil.CollectAndCount(m, name); n != 1 {
			t.Errorf("%s: %d series", name, n)
		}
	}
}

// Labels() is what a scrape shows, and the scope key (never the scope id) is a label of the
// operation metrics.
func TestLabelsAreWhatIsScraped(t *testing.T) {
	m := opsprom.New()
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)
	drive(m)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	labels := opsprom.Labels()
	if len(labels) != len(opsprom.Names()) {
		t.Fatalf("Labels() has %d metrics, Names() %d", len(labels), len(opsprom.Names()))
	}
	seen := 0
	for _, mf := range mfs {
		want, ok := labels[mf.GetName()]
		if !ok {
			t.Errorf("%s is scraped but not in Labels()", mf.GetName())
			continue
		}
		seen++
		for _, metric := range mf.GetMetric() {
			var got []string
			for _, lp := range metric.GetLabel() {
				got = append(got, lp.GetName())
				if lp.GetName() == opsprom.LabelScopeKey && lp.GetValue() != "tenant" {
					t.Errorf("%s: scope_key=%q", mf.GetName(), lp.GetValue())
				}
			}
			if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
				t.Errorf("%s has labels %v, Labels() says %v", mf.GetName(), got, want)
			}
		}
	}
	if seen != len(labels) {
		t.Errorf("%d of %d metrics scraped", seen, len(labels))
	}
}

// A failed operation counts under its STORE_* code; a success or a miss does not.
func TestErrorsByCode(t *testing.T) {
	m := opsprom.New()
	h := func(err error) ops.Handler {
		return m.Middleware()(func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{}, err })
	}
	op := ops.Op{Kind: ops.KVSet, Service: "shop"}
	down := ops.Failure(ops.KVSet, ops.ErrUnavailable, context.DeadlineExceeded)
	for _, err := range []error{down, down, nil, ops.Invalid(ops.CodeTTLInvalid, "kv.set", "bad ttl", nil)} {
		_, _ = h(err)(context.Background(), op)
	}
	want := `
# HELP igniter_store_errors_total Failed store operations by error code.
# TYPE igniter_store_errors_total counter
igniter_store_errors_total{code="` + string(ops.CodeOf(down)) + `",namespace="kv",operation="kv.set",scope_key="",service="shop"} 2
igniter_store_errors_total{code="STORE_TTL_INVALID",namespace="kv",operation="kv.set",scope_key="",service="shop"} 1
`
	if err := testutil.CollectAndCompare(m, strings.NewReader(want), opsprom.MetricErrors); err != nil {
		t.Fatal(err)
	}
}
