package streams_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/streams"
	"github.com/igniter-go/store/telemetry/opsprom"
)

// lagTicks forwards consumer_lag signals: the read loop sends one per LagInterval, between its
// claim passes, so counting them counts loop rounds without sleeping.
func lagTicks(consumer string) (*streamSignals, <-chan ops.Signal) {
	ch := make(chan ops.Signal, 1024)
	return newStreamSignals(func(s ops.Signal) {
		if s.Kind == ops.SignalConsumerLag {
			select {
			case ch <- s:
			default:
			}
		}
	}), ch
}

func waitTicks(t *testing.T, ticks <-chan ops.Signal, n int) {
	t.Helper()
	for range n {
		select {
		case <-ticks:
		case <-time.After(20 * time.Second): // a guard, not synchronisation
			t.Fatal("the consume loop stopped reporting")
		}
	}
}

// TestReliabilityInFlightEntryNeverDeadLettered: a handler running far longer than ClaimIdle (the
// issue's case: ClaimIdle 50 ms, MaxDeliveries 3, a slow handler) finishes, its entry is acked
// once, and it is neither dead-lettered nor handed to a second handler, by its own consumer or by
// another consumer of the group. Before the fix the loop's own claim pass re-claimed the entry
// (raising its delivery count) and dead-lettered it while the handler still ran.
func TestReliabilityInFlightEntryNeverDeadLettered(t *testing.T) {
	obs, ticks := lagTicks("c1")
	e := newStreamEnv(t, func(b *client.Builder) *client.Builder { return b.WithObserver(obs) })
	ctx := context.Background()
	if _, err := e.st.Streams.Append(ctx, "jobs", "slow", streams.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}, 8), make(chan struct{})
	var calls1, calls2 atomic.Int64
	opts := fastConsume(1, 3)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	results := make(chan error, 2)
	wg.Add(1)
	go func() {
		defer wg.Done()
		results <- e.st.Streams.Group("g", "c1").Consume(cctx, "jobs", func(ctx context.Context, _ streams.Entry) error {
			calls1.Add(1)
			entered <- struct{}{}
			<-release
			return nil
		}, opts)
	}()
	<-entered
	// A second consumer of the group, claiming entries idle for 300 ms: the first loop refreshes
	// its entries every ClaimIdle/3 (17 ms), so only a stall of that loop longer than 300 ms on
	// this shared machine would let it claim.
	other := opts
	other.ClaimIdle = 300 * time.Millisecond
	wg.Add(1)
	go func() {
		defer wg.Done()
		results <- e.st.Streams.Group("g", "c2").Consume(cctx, "jobs", func(ctx context.Context, _ streams.Entry) error {
			calls2.Add(1)
			return nil
		}, other)
	}()
	// 150 lag reports of two loops at LagInterval 10 ms: the entry has been in flight for many
	// times either ClaimIdle, and claim passes (every 20 ms) of both consumers ran meanwhile.
	waitTicks(t, ticks, 150)
	close(release)
	deadline := time.Now().Add(20 * time.Second)
	for {
		pending, err := e.raw.XPending(ctx, streamKey+"jobs", "g").Result()
		if err != nil {
			t.Fatal(err)
		}
		if pending.Count == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the entry was never acked: %+v", pending)
		}
		waitTicks(t, ticks, 1)
	}
	cancel()
	wg.Wait()
	if dead := readStreamDeadLetters(t, e.raw, streamKey+"jobs:dead"); len(dead) != 0 {
		t.Fatalf("an entry whose handler was still running was dead-lettered: %+v", dead)
	}
	if n1, n2 := calls1.Load(), calls2.Load(); n1 != 1 || n2 != 0 {
		t.Fatalf("handled %d times by its consumer and %d times by the other, want once", n1, n2)
	}
}

// TestReliabilityLostGroupIsNotReplayed: when the group disappears under a running loop (XGROUP
// DESTROY, or a restart without persistence), the loop re-creates it at the last id it saw
// delivered: what it handled is not handled again, and what arrived meanwhile is not skipped.
// Before the fix the group was re-created at "0" and the whole stream was handled again.
func TestReliabilityLostGroupIsNotReplayed(t *testing.T) {
	e := newStreamEnv(t, nil)
	ctx := context.Background()
	var mu sync.Mutex
	var handled []string
	got := make(chan string, 64)
	cctx, cancel := context.WithCancel(ctx)
	result := make(chan error, 1)
	go func() {
		result <- streams.ConsumeAs(cctx, e.st.Streams.Group("g", "c"), "jobs", func(_ context.Context, m streams.Message[string]) error {
			mu.Lock()
			handled = append(handled, m.Message)
			mu.Unlock()
			got <- m.Message
			return nil
		}, fastConsume(1, 5))
	}()
	for i := range 3 {
		if _, err := e.st.Streams.Append(ctx, "jobs", fmt.Sprint("m", i), streams.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
		<-got
	}
	if err := e.raw.XGroupDestroy(ctx, streamKey+"jobs", "g").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.Streams.Append(ctx, "jobs", "after", streams.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	// Entries are delivered in id order, one at a time: a replay of m0..m2 would come before "after".
	awaitAfter(t, "the group was lost", got, cancel, result, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(handled)
	})
}

// TestReliabilityStreamHandlerGrace: a handler that ignores its ctx no longer holds Store.Close
// (and Consume) forever: after StopGrace the loop reports it and returns.
func TestReliabilityStreamHandlerGrace(t *testing.T) {
	e, logs := newLoggedStreamEnv(t)
	ctx := context.Background()
	if _, err := e.st.Streams.Append(ctx, "jobs", "stuck", streams.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	defer close(release) // the abandoned handler ends with the test
	opts := fastConsume(1, 5)
	opts.StopGrace = 100 * time.Millisecond
	result := make(chan error, 1)
	go func() {
		result <- e.st.Streams.Group("g", "c").Consume(ctx, "jobs", func(context.Context, streams.Entry) error {
			close(entered)
			<-release // ignores its ctx
			return nil
		}, opts)
	}()
	<-entered
	closed := make(chan error, 1)
	go func() { closed <- e.st.Close() }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second): // a hang detector: the grace is 100 ms
		t.Fatal("Store.Close waited for a handler that ignores its ctx")
	}
	if err := <-result; !ops.HasCode(err, ops.CodeClosed) {
		t.Fatalf("Consume returned %v, want STORE_CLOSED", err)
	}
	if !strings.Contains(logs.String(), "still running") {
		t.Fatalf("the abandoned handler was not reported: %s", logs.String())
	}
}

// TestReliabilityStreamEntryPayloadLimit: an entry larger than the store's maximum inbound payload
// is not decoded nor handed to the handler: it is reported, dead-lettered without its message,
// and acked; the next entry is handled.
func TestReliabilityStreamEntryPayloadLimit(t *testing.T) {
	invalid := make(chan ops.Signal, 4)
	obs := newStreamSignals(func(s ops.Signal) {
		if s.Kind == ops.SignalMessageInvalid {
			invalid <- s
		}
	})
	e := newStreamEnv(t, func(b *client.Builder) *client.Builder { return b.WithObserver(obs).WithMaxPayload(1024) })
	ctx := context.Background()
	big, err := e.st.Streams.Append(ctx, "jobs", strings.Repeat("x", 2048), streams.AppendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.Streams.Append(ctx, "jobs", "small", streams.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 4)
	cctx, cancel := context.WithCancel(ctx)
	result := make(chan error, 1)
	go func() {
		result <- streams.ConsumeAs(cctx, e.st.Streams.Group("g", "c"), "jobs", func(_ context.Context, m streams.Message[string]) error {
			got <- m.Message
			return nil
		}, fastConsume(1, 5))
	}()
	if m := <-got; m != "small" {
		t.Fatalf("handled %.20q…, want only the small entry", m)
	}
	s := <-invalid
	if !errors.Is(s.Err, streams.ErrEntryTooLarge) || !ops.HasCode(s.Err, ops.CodeMessageInvalid) {
		t.Fatalf("signal %+v", s)
	}
	cancel()
	if err := <-result; err != nil {
		t.Fatal(err)
	}
	dead := readStreamDeadLetters(t, e.raw, streamKey+"jobs:dead")
	if len(dead) != 1 || dead[0].ID != big || string(dead[0].Message) != "null" {
		t.Fatalf("dead letters %+v, want the big entry's id without its message", dead)
	}
	if n := e.raw.XPending(ctx, streamKey+"jobs", "g").Val().Count; n != 0 {
		t.Fatalf("%d entries left pending", n)
	}
}

// gaugeSeries returns the values of a metric's series labelled stream=jobs, group=g.
func gaugeSeries(t *testing.T, reg *prometheus.Registry, name string) []float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["stream"] == "jobs" && labels["group"] == "g" {
				out = append(out, m.GetGauge().GetValue())
			}
		}
	}
	return out
}

// TestReliabilityLagGaugesPerTenant: two tenants with the same stream and group names share the
// lag and pending series (their labels hold no scope id): the series is their sum, not whichever
// reported last; a second loop on the same group does not count it twice; and when the loops
// end their series are deleted (they were left behind, one set per stream name, forever).
func TestReliabilityLagGaugesPerTenant(t *testing.T) {
	metrics := opsprom.New()
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics)
	obs, ticks := lagTicks("")
	e := newStreamEnv(t, func(b *client.Builder) *client.Builder { return b.WithObserver(metricsThen(metrics, obs)) })
	ctx := context.Background()
	t1, t2 := e.st.MustScope("tenant", "t1"), e.st.MustScope("tenant", "t2")
	for tenant, n := range map[*client.Store]int{t1: 3, t2: 5} {
		for i := range n {
			if _, err := tenant.Streams.Append(ctx, "jobs", i, streams.AppendOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	release := make(chan struct{})
	cctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, c := range []struct {
		st       *client.Store
		consumer string
	}{{t1, "a"}, {t2, "a"}, {t2, "b"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := c.st.Streams.Group("g", c.consumer).Consume(cctx, "jobs", func(ctx context.Context, _ streams.Entry) error {
				select {
				case <-release:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}, fastConsume(1, 5))
			if err != nil {
				t.Error(err)
			}
		}()
	}
	// Every entry is delivered and none acked: pending 3 + 5, whichever loop reported last.
	deadline := time.Now().Add(20 * time.Second)
	for {
		waitTicks(t, ticks, 1)
		p, l := gaugeSeries(t, reg, opsprom.MetricStreamPending), gaugeSeries(t, reg, opsprom.MetricStreamConsumerLag)
		if len(p) == 1 && p[0] == 8 && len(l) == 1 && l[0] == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pending series %v, lag series %v; want one series each, 8 and 0", p, l)
		}
	}
	for range 30 { // it stays the sum while all three loops keep reporting
		waitTicks(t, ticks, 1)
		if p := gaugeSeries(t, reg, opsprom.MetricStreamPending); len(p) != 1 || p[0] != 8 {
			t.Fatalf("pending series %v, want [8]", p)
		}
	}
	close(release)
	cancel()
	wg.Wait()
	if p, l := gaugeSeries(t, reg, opsprom.MetricStreamPending), gaugeSeries(t, reg, opsprom.MetricStreamConsumerLag); len(p)+len(l) != 0 {
		t.Fatalf("series left after every loop ended: pending %v, lag %v", p, l)
	}
}

// TestReliabilityLagGaugeMeasuredAfterRead: the loop's lag report follows its read, so the
// entries the read took count as delivered. The report used to come first: with the default
// 10 s LagInterval, stream_consumer_lag showed 1 for an entry already handled, while Group.Lag
// returned 0.
func TestReliabilityLagGaugeMeasuredAfterRead(t *testing.T) {
	metrics := opsprom.New()
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics)
	obs, ticks := lagTicks("")
	e := newStreamEnv(t, func(b *client.Builder) *client.Builder { return b.WithObserver(metricsThen(metrics, obs)) })
	ctx := context.Background()
	if _, err := e.st.Streams.Append(ctx, "jobs", "one", streams.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	opts := fastConsume(1, 5)
	opts.LagInterval = time.Hour // one report only: the first
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	handled := make(chan struct{}, 1)
	result := make(chan error, 1)
	go func() {
		result <- e.st.Streams.Group("g", "c").Consume(cctx, "jobs", func(context.Context, streams.Entry) error {
			handled <- struct{}{}
			return nil
		}, opts)
	}()
	waitTicks(t, ticks, 1)
	<-handled
	lag, err := e.st.Streams.Group("g", "c").Lag(ctx, "jobs")
	if err != nil {
		t.Fatal(err)
	}
	if g := gaugeSeries(t, reg, opsprom.MetricStreamConsumerLag); len(g) != 1 || int64(g[0]) != lag.Lag {
		t.Fatalf("stream_consumer_lag %v, Group.Lag %d", g, lag.Lag)
	}
	cancel()
	if err := <-result; err != nil {
		t.Fatal(err)
	}
}

// metricsThen is an observer that gives each signal to metrics first, then to next: a test woken
// by next reads gauges that already hold the signal.
func metricsThen(metrics *opsprom.Metrics, next ops.Observer) ops.Observer {
	return ops.ObserverFunc(func(ctx context.Context, s ops.Signal) {
		metrics.Observe(ctx, s)
		next.Observe(ctx, s)
	})
}

// TestReliabilityCloseFromStreamHandler: a consume handler may call the store's Close: Close
// does not wait for the handler it is called from (it waited the whole StopGrace for itself).
func TestReliabilityCloseFromStreamHandler(t *testing.T) {
	e, logs := newLoggedStreamEnv(t)
	ctx := context.Background()
	if _, err := e.st.Streams.Append(ctx, "jobs", "last", streams.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	result := make(chan error, 1)
	go func() {
		result <- e.st.Streams.Group("g", "c").Consume(ctx, "jobs", func(context.Context, streams.Entry) error {
			closed <- e.st.Close()
			return nil
		}, fastConsume(1, 5)) // StopGrace: the default 10 s
	}()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close from a handler: %v", err)
		}
	case <-time.After(5 * time.Second): // below the 10 s grace
		t.Fatal("Store.Close called from a consume handler waited for that handler")
	}
	if err := <-result; !ops.HasCode(err, ops.CodeClosed) {
		t.Fatalf("Consume returned %v", err)
	}
	if strings.Contains(logs.String(), "still running") {
		t.Fatalf("the calling handler was reported as hung: %s", logs.String())
	}
}

// TestReliabilityTypedReadsPayloadLimit: RangeAs and ReadAs do not decode an entry larger than
// the store's maximum inbound payload; its Err says why, the others decode.
func TestReliabilityTypedReadsPayloadLimit(t *testing.T) {
	e := newStreamEnv(t, func(b *client.Builder) *client.Builder { return b.WithMaxPayload(1024) })
	ctx := context.Background()
	for _, m := range []string{strings.Repeat("x", 2048), "small"} {
		if _, err := e.st.Streams.Append(ctx, "jobs", m, streams.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	ranged, err := streams.RangeAs[string](ctx, e.st.Streams, "jobs", streams.RangeOptions{})
	if !errors.Is(err, streams.ErrEntryTooLarge) || len(ranged) != 2 || !errors.Is(ranged[0].Err, streams.ErrEntryTooLarge) ||
		ranged[0].Message != "" || ranged[1].Message != "small" {
		t.Fatalf("RangeAs = %+v, %v", ranged, err)
	}
	g := e.st.Streams.Group("g", "c")
	if err := g.Ensure(ctx, "jobs", streams.EnsureOptions{StartID: "0"}); err != nil {
		t.Fatal(err)
	}
	read, err := streams.ReadAs[string](ctx, g, "jobs", streams.ReadOptions{})
	if !ops.HasCode(err, ops.CodeMessageInvalid) || len(read) != 2 || read[1].Message != "small" {
		t.Fatalf("ReadAs = %+v, %v", read, err)
	}
}
