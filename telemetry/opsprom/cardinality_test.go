package opsprom_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/telemetry/opsprom"
)

// streamMetrics are the metrics with labels service, stream and group: four counters, two gauges.
var streamMetrics = []string{opsprom.MetricStreamConsumed, opsprom.MetricStreamRedelivered,
	opsprom.MetricStreamReclaimed, opsprom.MetricStreamDeadLettered, opsprom.MetricStreamConsumerLag, opsprom.MetricStreamPending}

// loopSignals sends what one consume loop (group instance source) on stream reports while it
// runs: a lag report, a consumed, a redelivered, a reclaimed and a dead-lettered entry.
func loopSignals(m *opsprom.Metrics, stream string, source uint64) {
	ctx := context.Background()
	for _, s := range []ops.Signal{
		{Kind: ops.SignalConsumerLag, N: 3, M: 1},
		{Kind: ops.SignalConsumed},
		{Kind: ops.SignalRedelivered, N: 1},
		{Kind: ops.SignalReclaimed, N: 2},
		{Kind: ops.SignalDeadLettered, N: 5},
	} {
		s.Service, s.Name, s.Group, s.Source = "shop", stream, "billing", source
		m.Observe(ctx, s)
	}
}

// loopStopped sends what a consume loop reports when the store's last loop on its group ends.
func loopStopped(m *opsprom.Metrics, stream string, source uint64) {
	m.Observe(context.Background(), ops.Signal{Kind: ops.SignalConsumerStopped, Service: "shop", Name: stream,
		Group: "billing", Source: source})
}

// TestStreamSeriesChurnExactlyOnce drives the metrics with the signals of 10,000 consume loops,
// each on a stream of its own, then stops them: the stream series are capped while the loops run
// (DefaultMaxStreams label sets of their own, the rest folded into StreamOther and counted) and
// back to the baseline once they have stopped. Before the fix every stream name left 4 counter
// series that nothing deleted: 10,000 names, 40,000 series.
func TestStreamSeriesChurnExactlyOnce(t *testing.T) {
	const names = 10_000
	m := opsprom.New()
	m.Prepare("shop", nil, "redis")
	baseline := testutil.CollectAndCount(m)
	for i := range names {
		loopSignals(m, "s"+strconv.Itoa(i), uint64(i+1))
	}
	for _, name := range streamMetrics {
		if n := testutil.CollectAndCount(m, name); n != opsprom.DefaultMaxStreams+1 {
			t.Errorf("%d live %s series, want the cap %d + 1 (%s)", n, name, opsprom.DefaultMaxStreams, opsprom.StreamOther)
		}
	}
	folded := names - opsprom.DefaultMaxStreams
	other := strconv.Itoa(folded)
	scraped := scrape(t, m)
	for _, line := range []string{
		`igniter_store_stream_series_overflow_total{service="shop"} ` + other,
		`igniter_store_stream_consumed_total{group="_other",service="shop",stream="_other"} ` + other,
		`igniter_store_stream_dead_lettered_total{group="_other",service="shop",stream="_other"} ` + other,
		`igniter_store_stream_consumer_lag{group="_other",service="shop",stream="_other"} ` + strconv.Itoa(3*folded),
		`igniter_store_stream_consumed_total{group="billing",service="shop",stream="s0"} 1`,
		`igniter_store_stream_reclaimed_total{group="billing",service="shop",stream="s0"} 2`,
		`igniter_store_stream_consumer_lag{group="billing",service="shop",stream="s0"} 3`,
	} {
		if !slices.Contains(scraped, line) {
			t.Errorf("no series %s", line)
		}
	}
	for i := range names {
		loopStopped(m, "s"+strconv.Itoa(i), uint64(i+1))
	}
	if n := testutil.CollectAndCount(m); n != baseline { // Prepare made the overflow count's series
		t.Fatalf("%d series after every loop stopped, want the baseline %d", n, baseline)
	}
	for _, name := range streamMetrics {
		if n := testutil.CollectAndCount(m, name); n != 0 {
			t.Errorf("%d %s series left after every loop stopped", n, name)
		}
	}
}

// A (stream, group) shared by two group instances (two tenants' stores, or two stores of one
// process) keeps its series until the last one stops; a loop that starts again gets them back;
// a signal that comes after its loop stopped, without a group instance, brings back no series of
// its own, and makes none under StreamOther when no loop counts there (see
// TestLateSignalCountsUnderALiveOtherExactlyOnce for when one does).
func TestStreamSeriesRefCountedExactlyOnce(t *testing.T) {
	m := opsprom.New()
	count := func() int { return testutil.CollectAndCount(m, opsprom.MetricStreamConsumed) }
	// (StreamOther has no series until the late signal below.)
	loopSignals(m, "orders", 1)
	loopSignals(m, "orders", 2)
	if n := count(); n != 1 {
		t.Fatalf("%d consumed series for one (stream, group), want 1", n)
	}
	loopStopped(m, "orders", 1)
	if n := count(); n != 1 {
		t.Fatalf("the series went while group instance 2 still runs (%d)", n)
	}
	if lag := `igniter_store_stream_consumer_lag{group="billing",service="shop",stream="orders"} 3`; !slices.Contains(scrape(t, m), lag) {
		t.Fatalf("after instance 1 stopped, want instance 2's lag: %s", lag)
	}
	loopStopped(m, "orders", 2)
	if n := count(); n != 0 {
		t.Fatalf("%d consumed series after both stopped", n)
	}
	// A late signal with no group instance (a handler that outlived its loop).
	m.Observe(context.Background(), ops.Signal{Kind: ops.SignalRedelivered, Service: "shop", Name: "orders", Group: "billing"})
	for _, line := range scrape(t, m) {
		if strings.Contains(line, `stream="orders"`) {
			t.Fatalf("a late signal brought back a series of the stopped stream: %s", line)
		}
	}
	// With no loop folded under StreamOther it is counted nowhere: a StreamOther label set it
	// made would have no group instance, and no stop would ever delete it.
	for _, line := range scrape(t, m) {
		if strings.Contains(line, `stream="_other"`) {
			t.Fatalf("a late signal with nothing running made a %s series: %s", opsprom.StreamOther, line)
		}
	}
	m.Observe(context.Background(), ops.Signal{Kind: ops.SignalConsumerLag, Service: "shop", Name: "orders", Group: "billing", N: 5})
	if n := testutil.CollectAndCount(m, opsprom.MetricStreamConsumerLag); n != 0 {
		t.Fatalf("a lag report without a group instance made %d lag series", n)
	}
	orders := `igniter_store_stream_consumed_total{group="billing",service="shop",stream="orders"} 1`
	loopSignals(m, "orders", 1)
	if !slices.Contains(scrape(t, m), orders) {
		t.Fatal("a loop that started again has no consumed series of its own")
	}
	// Stopping an instance that never reported, or a stream that has none, changes nothing.
	loopStopped(m, "orders", 9)
	loopStopped(m, "other", 1)
	if !slices.Contains(scrape(t, m), orders) {
		t.Fatal("a stop of another instance deleted the series")
	}
}

// WithMaxStreams sets the cap; the series of folded loops go when the last of them stops.
func TestWithMaxStreamsExactlyOnce(t *testing.T) {
	m := opsprom.New(opsprom.WithMaxStreams(2))
	for i := range 5 {
		loopSignals(m, "s"+strconv.Itoa(i), uint64(i+1))
	}
	if n := testutil.CollectAndCount(m, opsprom.MetricStreamConsumed); n != 3 {
		t.Fatalf("%d consumed series with a cap of 2, want 2 + %s", n, opsprom.StreamOther)
	}
	loopStopped(m, "s0", 1) // frees a label set: the next new stream gets its own series
	loopSignals(m, "s5", 6)
	if line := `igniter_store_stream_consumed_total{group="billing",service="shop",stream="s5"} 1`; !slices.Contains(scrape(t, m), line) {
		t.Fatal("a stream after a freed label set was folded")
	}
	for i := 1; i < 6; i++ {
		loopStopped(m, "s"+strconv.Itoa(i), uint64(i+1))
	}
	if n := testutil.CollectAndCount(m, opsprom.MetricStreamConsumed); n != 0 {
		t.Fatalf("%d consumed series after every loop stopped", n)
	}
}

// scrape returns every counter and gauge series of m as `name{label="value",…} value`, labels
// in name order, as the text exposition format writes them.
func scrape(t *testing.T, m *opsprom.Metrics) []string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(m)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			labels := make([]string, 0, len(mt.GetLabel()))
			for _, lp := range mt.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", lp.GetName(), lp.GetValue()))
			}
			v := mt.GetCounter().GetValue() + mt.GetGauge().GetValue()
			out = append(out, fmt.Sprintf("%s{%s} %v", mf.GetName(), strings.Join(labels, ","), v))
		}
	}
	return out
}
