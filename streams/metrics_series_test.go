package streams_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/streams"
	"github.com/igniter-go/store/telemetry/opsprom"
)

// signalledMetrics is the store's Prometheus metrics, telling the test about each signal of
// kind once the metrics have counted it.
type signalledMetrics struct {
	*opsprom.Metrics
	kind ops.SignalKind
	seen chan ops.Signal
}

func (m signalledMetrics) Observe(ctx context.Context, s ops.Signal) {
	m.Metrics.Observe(ctx, s)
	if s.Kind == m.kind {
		m.seen <- s
	}
}

// streamSeriesOf returns the series of the stream metrics (counters and gauges) that name
// stream, "" for all.
func streamSeriesOf(t *testing.T, m *opsprom.Metrics, stream string) []string {
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
			for _, lp := range mt.GetLabel() {
				if lp.GetName() == opsprom.LabelStream && (stream == "" || lp.GetValue() == stream) {
					out = append(out, fmt.Sprintf("%s %v", mf.GetName(), mt.GetLabel()))
				}
			}
		}
	}
	return out
}

// consumeLoops starts one consume loop of group g on each stream, each with an entry to handle,
// and waits until the metrics counted every entry. stop[i] cancels loop i and returns its
// result; done[i] delivers it.
func consumeLoops(t *testing.T, st *client.Store, m signalledMetrics, names []string) (stop []context.CancelFunc, done []chan error) {
	t.Helper()
	ctx := context.Background()
	for _, name := range names {
		if _, err := st.Streams.Append(ctx, name, "job", streams.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
		lctx, cancel := context.WithCancel(ctx)
		result := make(chan error, 1)
		go func() {
			result <- st.Streams.Group("billing", "c1").Consume(lctx, name, func(context.Context, streams.Entry) error { return nil },
				streams.ConsumeOptions{EnsureStartID: "0", Block: 20 * time.Millisecond, LagInterval: 10 * time.Millisecond})
		}()
		stop, done = append(stop, cancel), append(done, result)
	}
	seen := map[string]bool{}
	guard := time.After(30 * time.Second) // only a hang reaches it
	for len(seen) < len(names) {
		select {
		case s := <-m.seen:
			seen[s.Name] = true
		case <-guard:
			t.Fatalf("the metrics counted %d of %d consumed entries", len(seen), len(names))
		}
	}
	return stop, done
}

// TestConsumeLoopSeriesGoWhenLoopsStopExactlyOnce runs real consume loops on 20 streams of a
// real redis-server: each stream has its series while its loop runs; a loop that ends (its ctx
// canceled, or the store closed) takes its stream's series with it, so the scrape is back to
// what Build published. Before the fix every stream name left its 4 counter series behind.
func TestConsumeLoopSeriesGoWhenLoopsStopExactlyOnce(t *testing.T) {
	m := signalledMetrics{opsprom.New(), ops.SignalConsumed, make(chan ops.Signal, 100)}
	e := newStreamEnv(t, func(b *client.Builder) *client.Builder { return b.WithMetrics(m) })
	baseline := testutil.CollectAndCount(m)
	names := make([]string, 20)
	for i := range names {
		names[i] = fmt.Sprintf("jobs-%d", i)
	}
	stop, done := consumeLoops(t, e.st, m, names)
	if n := testutil.CollectAndCount(m, opsprom.MetricStreamConsumed); n != len(names) {
		t.Fatalf("%d consumed series for %d running loops", n, len(names))
	}
	for i := range 10 { // the first half ends with its ctx
		stop[i]()
		if err := <-done[i]; err != nil {
			t.Fatalf("consume %s: %v", names[i], err)
		}
		if left := streamSeriesOf(t, m.Metrics, names[i]); len(left) > 0 {
			t.Fatalf("the loop of %s ended and left its series: %v", names[i], left)
		}
	}
	if n := testutil.CollectAndCount(m, opsprom.MetricStreamConsumed); n != 10 {
		t.Fatalf("%d consumed series for the 10 loops still running", n)
	}
	if err := e.st.Close(); err != nil { // the second half ends with the store
		t.Fatal(err)
	}
	for i := 10; i < len(names); i++ {
		if err := <-done[i]; !ops.HasCode(err, ops.CodeClosed) {
			t.Fatalf("consume %s after Close: %v", names[i], err)
		}
		stop[i]()
	}
	if left := streamSeriesOf(t, m.Metrics, ""); len(left) > 0 {
		t.Fatalf("series left after every loop stopped:\n%s", strings.Join(left, "\n"))
	}
	// Besides the error counts of the reads the stops ended (one per operation and code, not
	// per stream), the scrape is what Build published.
	errs := testutil.CollectAndCount(m, opsprom.MetricErrors)
	if n := testutil.CollectAndCount(m); n-errs != baseline {
		t.Fatalf("%d series after every loop stopped (%d error counts), %d after Build", n, errs, baseline)
	}
}

// With a cap of 3 (opsprom.WithMaxStreams), 6 real loops get 3 label sets of their own and
// count the others under opsprom.StreamOther, each counted once as an overflow; every series
// goes when the loops stop.
func TestConsumeLoopSeriesCappedExactlyOnce(t *testing.T) {
	m := signalledMetrics{opsprom.New(opsprom.WithMaxStreams(3)), ops.SignalConsumed, make(chan ops.Signal, 100)}
	e := newStreamEnv(t, func(b *client.Builder) *client.Builder { return b.WithMetrics(m) })
	names := []string{"a", "b", "c", "d", "e", "f"}
	stop, done := consumeLoops(t, e.st, m, names)
	other := streamSeriesOf(t, m.Metrics, opsprom.StreamOther)
	if n := testutil.CollectAndCount(m, opsprom.MetricStreamConsumed); n != 4 || len(other) == 0 {
		t.Fatalf("%d consumed series for 6 loops with a cap of 3, want 3 + %s (%v)", n, opsprom.StreamOther, other)
	}
	overflow := 0.0
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(m.Metrics)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == opsprom.MetricStreamOverflow {
			for _, mt := range mf.GetMetric() {
				overflow += mt.GetCounter().GetValue()
			}
		}
	}
	if overflow != 3 {
		t.Fatalf("overflow counted %v loops, want 3", overflow)
	}
	for i := range names {
		stop[i]()
		if err := <-done[i]; err != nil {
			t.Fatalf("consume %s: %v", names[i], err)
		}
	}
	if left := streamSeriesOf(t, m.Metrics, ""); len(left) > 0 {
		t.Fatalf("series left after every loop stopped:\n%s", strings.Join(left, "\n"))
	}
}
