package opsprom_test

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/telemetry/opsprom"
)

// drive runs one op of each outcome and one signal of each kind through m.
func drive(m *opsprom.Metrics) {
	ctx := context.Background()
	mw := m.Middleware()
	okH := mw(func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{Bool: true}, nil })
	failH := mw(func(context.Context, ops.Op) (ops.Result, error) {
		return ops.Result{}, ops.Failure(ops.KVGet, ops.ErrUnavailable, io.EOF)
	})
	op := ops.Op{Kind: ops.KVGet, Service: "shop", ScopeKey: "tenant", ScopeDepth: 1, Key: "igniter:store:shop:tenant:t1:kv:k"}
	_, _ = okH(ctx, op)
	_, _ = okH(ctx, op)
	_, _ = failH(ctx, op)
	sig := func(s ops.Signal) { s.Service = "shop"; m.Observe(ctx, s) }
	sig(ops.Signal{Kind: ops.SignalDelivered, Name: "user:created"})
	sig(ops.Signal{Kind: ops.SignalDropped, Name: "user:created", N: 3})
	sig(ops.Signal{Kind: ops.SignalReconnected, N: 2})
	sig(ops.Signal{Kind: ops.SignalHandlerFailed, Name: "orders", Group: "billing"})
	sig(ops.Signal{Kind: ops.SignalMessageInvalid, Name: "user:created"})
	// A consume loop's signals carry its group instance (Source).
	sig(ops.Signal{Kind: ops.SignalConsumed, Name: "orders", Group: "billing", Source: 1})
	sig(ops.Signal{Kind: ops.SignalRedelivered, Name: "orders", Group: "billing", Source: 1})
	sig(ops.Signal{Kind: ops.SignalReclaimed, Name: "orders", Group: "billing", N: 4, Source: 1})
	sig(ops.Signal{Kind: ops.SignalDeadLettered, Name: "orders", Group: "billing", N: 5, Source: 1})
	sig(ops.Signal{Kind: ops.SignalConsumerLag, Name: "orders", Group: "billing", N: 7, M: 2, Source: 1})
	sig(ops.Signal{Kind: ops.SignalRetry, Op: ops.KVGet, N: 1})
	sig(ops.Signal{Kind: ops.SignalRetryBudget, Op: ops.KVGet})
	sig(ops.Signal{Kind: ops.SignalBreakerState, Name: "redis", From: "closed", To: "open"})
	sig(ops.Signal{Kind: ops.SignalNearHit})
	sig(ops.Signal{Kind: ops.SignalNearHit})
	sig(ops.Signal{Kind: ops.SignalNearMiss})
	sig(ops.Signal{Kind: ops.SignalNearInvalidated, N: 1})
	sig(ops.Signal{Kind: ops.SignalNearConnectionLost, N: 3})
	sig(ops.Signal{Kind: ops.SignalNearFlushed, N: 9})
}

func TestScrapeHasEveryExportedName(t *testing.T) {
	m := opsprom.New()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(m)
	drive(m)
	exported := []string{
		opsprom.MetricOperations, opsprom.MetricErrors, opsprom.MetricHandlerDuration, opsprom.MetricOperationDuration, opsprom.MetricInFlight,
		opsprom.MetricRetries, opsprom.MetricRetryBudgetExhausted,
		opsprom.MetricBreakerState, opsprom.MetricBreakerTransitions,
		opsprom.MetricPubSubDelivered, opsprom.MetricPubSubDropped, opsprom.MetricPubSubReconnects,
		opsprom.MetricHandlerFailures, opsprom.MetricMessagesInvalid,
		opsprom.MetricStreamConsumed, opsprom.MetricStreamRedelivered, opsprom.MetricStreamReclaimed,
		opsprom.MetricStreamDeadLettered, opsprom.MetricStreamConsumerLag, opsprom.MetricStreamPending,
		opsprom.MetricStreamOverflow,
		opsprom.MetricNearCacheHits, opsprom.MetricNearCacheMisses, opsprom.MetricNearCacheInvalidations,
		opsprom.MetricNearCacheConnectionLosses, opsprom.MetricNearCacheEvicted,
	}
	if !slices.Equal(slices.Sorted(slices.Values(exported)), slices.Sorted(slices.Values(opsprom.Names()))) {
		t.Fatalf("Names() = %v, the constants are %v", opsprom.Names(), exported)
	}
	for _, name := range exported {
		n, err := testutil.GatherAndCount(reg, name)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Errorf("%s not scraped", name)
		}
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
}

func TestScrapedValues(t *testing.T) {
	m := opsprom.New()
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)
	drive(m)
	want := `
# HELP igniter_store_operations_total Store operations by outcome.
# TYPE igniter_store_operations_total counter
igniter_store_operations_total{namespace="kv",operation="kv.get",outcome="canceled",scope_key="tenant",service="shop"} 0
igniter_store_operations_total{namespace="kv",operation="kv.get",outcome="conflict",scope_key="tenant",service="shop"} 0
igniter_store_operations_total{namespace="kv",operation="kv.get",outcome="error",scope_key="tenant",service="shop"} 0
igniter_store_operations_total{namespace="kv",operation="kv.get",outcome="invalid",scope_key="tenant",service="shop"} 0
igniter_store_operations_total{namespace="kv",operation="kv.get",outcome="not_found",scope_key="tenant",service="shop"} 0
igniter_store_operations_total{namespace="kv",operation="kv.get",outcome="ok",scope_key="tenant",service="shop"} 2
igniter_store_operations_total{namespace="kv",operation="kv.get",outcome="rejected",scope_key="tenant",service="shop"} 0
igniter_store_operations_total{namespace="kv",operation="kv.get",outcome="unavailable",scope_key="tenant",service="shop"} 1
# HELP igniter_store_operations_in_flight Store operations running now.
# TYPE igniter_store_operations_in_flight gauge
igniter_store_operations_in_flight{namespace="kv",operation="kv.get",scope_key="tenant",service="shop"} 0
# HELP igniter_store_breaker_state 1 for the circuit breaker's current state, 0 for the others.
# TYPE igniter_store_breaker_state gauge
igniter_store_breaker_state{breaker="redis",service="shop",state="closed"} 0
igniter_store_breaker_state{breaker="redis",service="shop",state="half-open"} 0
igniter_store_breaker_state{breaker="redis",service="shop",state="open"} 1
# HELP igniter_store_pubsub_dropped_total Pub/sub messages dropped by full subscription buffers.
# TYPE igniter_store_pubsub_dropped_total counter
igniter_store_pubsub_dropped_total{service="shop"} 3
# HELP igniter_store_stream_consumer_lag Entries of the stream not yet delivered to the group.
# TYPE igniter_store_stream_consumer_lag gauge
igniter_store_stream_consumer_lag{group="billing",service="shop",stream="orders"} 7
# HELP igniter_store_stream_pending Entries delivered to the group and not yet acknowledged.
# TYPE igniter_store_stream_pending gauge
igniter_store_stream_pending{group="billing",service="shop",stream="orders"} 2
# HELP igniter_store_handler_failures_total Handler errors and panics.
# TYPE igniter_store_handler_failures_total counter
igniter_store_handler_failures_total{service="shop",source="stream"} 1
# HELP igniter_store_nearcache_hits_total Near-cache reads answered from process memory.
# TYPE igniter_store_nearcache_hits_total counter
igniter_store_nearcache_hits_total{service="shop"} 2
# HELP igniter_store_nearcache_misses_total Near-cache reads that were not in memory and went to Redis.
# TYPE igniter_store_nearcache_misses_total counter
igniter_store_nearcache_misses_total{service="shop"} 1
# HELP igniter_store_nearcache_invalidations_total Invalidation messages from Redis applied to the near cache.
# TYPE igniter_store_nearcache_invalidations_total counter
igniter_store_nearcache_invalidations_total{service="shop"} 1
# HELP igniter_store_nearcache_connection_losses_total Near-cache connections lost with cached entries on them.
# TYPE igniter_store_nearcache_connection_losses_total counter
igniter_store_nearcache_connection_losses_total{service="shop"} 1
# HELP igniter_store_nearcache_evicted_total Near-cache entries evicted because the connection that fetched them was lost.
# TYPE igniter_store_nearcache_evicted_total counter
igniter_store_nearcache_evicted_total{service="shop"} 3
`
	err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		opsprom.MetricOperations, opsprom.MetricInFlight, opsprom.MetricBreakerState, opsprom.MetricPubSubDropped,
		opsprom.MetricStreamConsumerLag, opsprom.MetricStreamPending, opsprom.MetricHandlerFailures,
		opsprom.MetricNearCacheHits, opsprom.MetricNearCacheMisses, opsprom.MetricNearCacheInvalidations,
		opsprom.MetricNearCacheConnectionLosses, opsprom.MetricNearCacheEvicted)
	if err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(m, opsprom.MetricOperationDuration); n != 1 {
		t.Fatalf("%d duration series", n)
	}
}

func TestNothingOnTheGlobalRegistry(t *testing.T) {
	before, _ := prometheus.DefaultGatherer.Gather()
	drive(opsprom.New())
	after, _ := prometheus.DefaultGatherer.Gather()
	for _, mf := range after {
		if strings.HasPrefix(mf.GetName(), "igniter_store") {
			t.Fatalf("%s on the global registry", mf.GetName())
		}
	}
	if len(before) != len(after) {
		t.Fatalf("the global registry changed: %d → %d families", len(before), len(after))
	}
}

func TestServicesGetTheirOwnSeries(t *testing.T) {
	m := opsprom.New()
	h := m.Middleware()(func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{}, nil })
	for _, svc := range []string{"a", "b", "a", "b", "b"} {
		_, _ = h(context.Background(), ops.Op{Kind: ops.KVSet, Service: svc})
	}
	want := `
# HELP igniter_store_operations_total Store operations by outcome.
# TYPE igniter_store_operations_total counter
`
	for _, svc := range []string{"a", "b"} {
		for _, o := range []string{"canceled", "conflict", "error", "invalid", "not_found", "ok", "rejected", "unavailable"} {
			n := "0"
			if o == "ok" {
				n = map[string]string{"a": "2", "b": "3"}[svc]
			}
			want += `igniter_store_operations_total{namespace="kv",operation="kv.set",outcome="` + o + `",scope_key="",service="` + svc + `"} ` + n + "\n"
		}
	}
	if err := testutil.CollectAndCompare(m, strings.NewReader(want), opsprom.MetricOperations); err != nil {
		t.Fatal(err)
	}
}

func TestInFlightAndHistogramShape(t *testing.T) {
	m := opsprom.New()
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)
	inflight := func() float64 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == opsprom.MetricInFlight {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatal("no in-flight gauge")
		return 0
	}
	var during float64
	h := m.Middleware()(func(context.Context, ops.Op) (ops.Result, error) {
		during = inflight()
		return ops.Result{}, nil
	})
	_, _ = h(context.Background(), ops.Op{Kind: ops.KVGet, Service: "shop"})
	if during != 1 || inflight() != 0 {
		t.Fatalf("in flight %v during the op, %v after", during, inflight())
	}
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != opsprom.MetricOperationDuration {
			continue
		}
		hist := mf.GetMetric()[0].GetHistogram()
		if hist.GetSampleCount() != 1 || hist.GetBucket()[0].GetUpperBound() != 0.0001 {
			t.Fatalf("classic buckets %v", hist.GetBucket())
		}
		if hist.Schema == nil || hist.GetZeroThreshold() == 0 {
			t.Fatal("the histogram is not native")
		}
		return
	}
	t.Fatal("no duration histogram")
}

// A near-cache hit is counted on the read's hot path: once the service's counters exist,
// counting one allocates nothing.
func TestNearHitAllocatesNothing(t *testing.T) {
	m := opsprom.New()
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)
	m.Prepare("shop", nil, "")
	ctx := context.Background()
	hit := ops.Signal{Kind: ops.SignalNearHit, Service: "shop"}
	if n := testing.AllocsPerRun(100, func() { m.Observe(ctx, hit) }); n != 0 {
		t.Fatalf("%v allocations per near-cache hit", n)
	}
	want := `
# HELP igniter_store_nearcache_hits_total Near-cache reads answered from process memory.
# TYPE igniter_store_nearcache_hits_total counter
igniter_store_nearcache_hits_total{service="shop"} 101
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), opsprom.MetricNearCacheHits); err != nil {
		t.Fatal(err)
	}
}
