package main

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/igniter-go/store/loadtest/internal/report"
	"github.com/igniter-go/store/telemetry/opsprom"
)

// lineWriter hands each written line to a channel (and keeps them all).
type lineWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	all   bytes.Buffer
	lines chan string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.all.Write(p)
	w.buf.Write(p)
	for {
		line, err := w.buf.ReadString('\n')
		if err != nil {
			w.buf.WriteString(line)
			return len(p), nil
		}
		select {
		case w.lines <- strings.TrimRight(line, "\n"):
		default:
		}
	}
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.all.String()
}

// runAsync runs the harness in-process with cfg until ctx ends or the run does, and returns
// its output lines and the result.
func runAsync(ctx context.Context, t *testing.T, c config) (*lineWriter, chan *report.Report) {
	t.Helper()
	out := &lineWriter{lines: make(chan string, 100)}
	res := make(chan *report.Report, 1)
	go func() {
		r, err := run(ctx, c, out, nil)
		if err != nil {
			t.Errorf("run: %v\n%s", err, out.String())
		}
		res <- r
	}()
	return out, res
}

func awaitLine(t *testing.T, w *lineWriter, prefix string) string {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case l := <-w.lines:
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-timeout:
			t.Fatalf("no line starting %q:\n%s", prefix, w.String())
		}
	}
}

// noKeepAlive scrapes without idle connections, whose goroutines goleak would report.
var noKeepAlive = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}

func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := noKeepAlive.Get(url)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mf, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return mf
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// succeeded returns the operations with successful counts in a scrape.
func succeeded(mf map[string]*dto.MetricFamily) []string {
	var ops []string
	for _, m := range mf[opsprom.MetricOperations].GetMetric() {
		if label(m, opsprom.LabelOutcome) == "ok" && m.GetCounter().GetValue() > 0 {
			ops = append(ops, label(m, opsprom.LabelOperation))
		}
	}
	slices.Sort(ops)
	return ops
}

// The mixed scenario against a real redis-server serves, during the run, metrics for every
// operation family: kv, counter, claim and lease, batch, events publish and delivery, stream
// append, consumer reads and acks, and the consumer group's lag.
func TestMixedScenarioServesMetricsOfEveryFamily(t *testing.T) {
	needRedis(t)
	// The run lasts until every family has shown up (or a minute), then is interrupted.
	c := quick(t, "-scenario", "mixed", "-start-redis", "-metrics-addr", "127.0.0.1:0", "-duration", "1m", "-tenants", "2")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, res := runAsync(ctx, t, c)
	url := strings.TrimPrefix(awaitLine(t, out, "metrics: "), "metrics: ")
	awaitLine(t, out, "measuring")
	want := []string{"batch.get", "batch.set", "claim.once", "claim.release", "counter.gcra",
		"events.publish", "events.subscribe", "kv.get", "kv.set", "lease.acquire", "lease.extend", "lease.release",
		"stream.ack", "stream.append", "stream.ensure", "stream.read"}
	var got []string
	var mf map[string]*dto.MetricFamily
	for deadline := time.Now().Add(50 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		mf = scrape(t, url)
		got = succeeded(mf)
		if len(missing(want, got)) == 0 && total(mf, opsprom.MetricStreamConsumed) > 0 && total(mf, opsprom.MetricPubSubDelivered) > 0 &&
			mf[opsprom.MetricStreamConsumerLag] != nil {
			break
		}
	}
	cancel()
	r := <-res
	if m := missing(want, got); len(m) > 0 {
		t.Errorf("no successful %v in the metrics served during the run (have %v)", m, got)
	}
	for _, name := range []string{opsprom.MetricStreamConsumed, opsprom.MetricPubSubDelivered} {
		if total(mf, name) == 0 {
			t.Errorf("%s is 0 or absent", name)
		}
	}
	if mf[opsprom.MetricStreamConsumerLag] == nil || mf[opsprom.MetricOperationDuration] == nil {
		t.Errorf("no %s or %s", opsprom.MetricStreamConsumerLag, opsprom.MetricOperationDuration)
	}
	if r == nil || r.All.Count == 0 {
		t.Fatal("no report")
	}
	validReport(t, r)
	if _, err := noKeepAlive.Get(url); err == nil {
		t.Error("the metrics endpoint still answers after the run")
	}
}

func missing(want, got []string) []string {
	var m []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			m = append(m, w)
		}
	}
	return m
}

func total(mf map[string]*dto.MetricFamily, name string) float64 {
	var v float64
	for _, m := range mf[name].GetMetric() {
		v += m.GetCounter().GetValue() + m.GetGauge().GetValue()
	}
	return v
}

// -chaos in the mixed scenario: the breaker opens while the server is down, the metrics
// endpoint keeps answering and shows it open, and the store recovers after the restart.
func TestChaosOpensTheBreakerWhileMetricsAreServed(t *testing.T) {
	needRedis(t)
	c := quick(t, "-scenario", "mixed", "-chaos", "-chaos-down", "2s", "-metrics-addr", "127.0.0.1:0", "-duration", "8s")
	out, res := runAsync(context.Background(), t, c)
	url := strings.TrimPrefix(awaitLine(t, out, "metrics: "), "metrics: ")
	awaitLine(t, out, "measuring")
	// The breaker is open for about a second; a scrape on a loaded machine can miss that
	// window, so the evidence is the transitions counter (monotonic: once it counts
	// closed→open, every later scrape shows it) or the state gauge caught open.
	sawOpen := false
	for deadline := time.Now().Add(8 * time.Second); time.Now().Before(deadline) && !sawOpen; time.Sleep(100 * time.Millisecond) {
		mf := scrape(t, url)
		for _, m := range mf[opsprom.MetricBreakerState].GetMetric() {
			if label(m, opsprom.LabelState) == opsprom.BreakerOpen && m.GetGauge().GetValue() == 1 {
				sawOpen = true
			}
		}
		for _, m := range mf[opsprom.MetricBreakerTransitions].GetMetric() {
			if label(m, opsprom.LabelFrom) == opsprom.BreakerClosed && label(m, opsprom.LabelTo) == opsprom.BreakerOpen && m.GetCounter().GetValue() >= 1 {
				sawOpen = true
			}
		}
	}
	r := <-res
	if r == nil {
		t.Fatal("no report")
	}
	validReport(t, r)
	if !sawOpen {
		t.Error("the metrics never showed the breaker open")
	}
	notes := strings.Join(r.Notes, "\n")
	for _, want := range []string{"SIGKILLed", "breaker closed→open", "fast-fails (STORE_CIRCUIT_OPEN)", "recovery: first success"} {
		if !strings.Contains(notes, want) {
			t.Errorf("chaos notes lack %q:\n%s", want, notes)
		}
	}
	t.Log("\n" + notes)
}
