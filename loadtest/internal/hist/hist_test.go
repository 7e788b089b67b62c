package hist_test

import (
	"math"
	"testing"
	"time"

	"github.com/igniter-go/store/loadtest/internal/hist"
)

// within reports whether got is within HDR's 3-significant-digit precision of want.
func within(got, want time.Duration) bool {
	return math.Abs(float64(got-want)) <= float64(want)/1000+float64(time.Microsecond)
}

// 1..10,000 µs, recorded once each across shards: every percentile is known exactly.
func TestPercentilesOfAKnownUniformInput(t *testing.T) {
	s := hist.NewSet(4)
	for i := 1; i <= 10_000; i++ {
		s.Record(i, "op", time.Duration(i)*time.Microsecond)
	}
	s.Tick(time.Second)
	ops, all := s.Summaries(2 * time.Second)
	if len(ops) != 1 || ops[0].Count != 10_000 || all.Count != 10_000 {
		t.Fatalf("counts: %+v / %+v", ops, all)
	}
	got := ops[0]
	for _, c := range []struct {
		name      string
		got, want time.Duration
	}{
		{"p50", got.P50, 5000 * time.Microsecond},
		{"p90", got.P90, 9000 * time.Microsecond},
		{"p99", got.P99, 9900 * time.Microsecond},
		{"p99.9", got.P999, 9990 * time.Microsecond},
		{"p99.99", got.P9999, 9999 * time.Microsecond},
		{"max", got.Max, 10_000 * time.Microsecond},
		{"mean", got.Mean, 5000500 * time.Nanosecond},
	} {
		if !within(c.got, c.want) {
			t.Errorf("%s = %v, want %v (±0.1%%)", c.name, c.got, c.want)
		}
	}
	if got.Rate != 5000 {
		t.Errorf("rate = %v, want 5000/s (10,000 over 2 s)", got.Rate)
	}
	if n := len(got.Spectrum); n != len(hist.SpectrumPercentiles) {
		t.Errorf("spectrum has %d points", n)
	}
}

// 99 fast values and one slow one: p99 is fast, p99.9 and max are the outlier, as a sorted
// slice's nearest-rank percentile says.
func TestOneOutlierInAHundred(t *testing.T) {
	s := hist.NewSet(1)
	for range 99 {
		s.Record(0, "op", 100*time.Microsecond)
	}
	s.Record(0, "op", 2*time.Second)
	s.Tick(time.Second)
	ops, _ := s.Summaries(time.Second)
	o := ops[0]
	if !within(o.P50, 100*time.Microsecond) || !within(o.P99, 100*time.Microsecond) {
		t.Errorf("p50 %v p99 %v, want 100µs", o.P50, o.P99)
	}
	if !within(o.P999, 2*time.Second) || !within(o.Max, 2*time.Second) {
		t.Errorf("p99.9 %v max %v, want 2s", o.P999, o.Max)
	}
}

// Per-op histograms merge into "all"; errors are counted by code per op and in total; each
// Tick summarises only its own second.
func TestMergeErrorsAndSeconds(t *testing.T) {
	s := hist.NewSet(3)
	for i := range 300 {
		s.Record(i, "get", time.Millisecond)
	}
	s.Error(0, "get", "STORE_UNAVAILABLE")
	s.Tick(time.Second)
	for i := range 100 {
		s.Record(i, "set", 3*time.Millisecond)
	}
	s.Error(1, "set", "STORE_CIRCUIT_OPEN")
	s.Error(2, "set", "STORE_CIRCUIT_OPEN")
	s.Tick(2 * time.Second)
	s.Tick(2 * time.Second) // a repeated tick adds no second
	ops, all := s.Summaries(2 * time.Second)
	if all.Count != 400 || !within(all.P50, time.Millisecond) || !within(all.P99, 3*time.Millisecond) {
		t.Errorf("all: %+v", all)
	}
	if all.Errors["STORE_CIRCUIT_OPEN"] != 2 || all.Errors["STORE_UNAVAILABLE"] != 1 || all.ErrorCount() != 3 {
		t.Errorf("errors: %v", all.Errors)
	}
	if ops[0].Op != "get" || ops[0].Count != 300 || ops[1].Op != "set" || ops[1].Errors["STORE_CIRCUIT_OPEN"] != 2 {
		t.Errorf("ops: %+v", ops)
	}
	if ok, failed := s.Count("set"); ok != 100 || failed != 2 {
		t.Errorf("Count(set) = %d, %d; want the row's 100 and 2", ok, failed)
	}
	series := s.Series()
	if len(series) != 2 {
		t.Fatalf("%d seconds, want 2", len(series))
	}
	if g := series[0].Ops["get"]; g.Count != 300 || g.Errors != 1 || series[0].Ops["set"].Count != 0 {
		t.Errorf("second 1: %+v", series[0])
	}
	if g, st := series[1].Ops["get"], series[1].Ops["set"]; g.Count != 0 || st.Count != 100 || st.Errors != 2 || !within(st.P99, 3*time.Millisecond) {
		t.Errorf("second 2: %+v", series[1])
	}
}

// Latencies beyond the histogram's range are clamped, not lost.
func TestOutOfRangeIsClamped(t *testing.T) {
	s := hist.NewSet(1)
	s.Record(0, "op", time.Hour)
	s.Record(0, "op", -time.Second)
	s.Tick(time.Second)
	ops, _ := s.Summaries(time.Second)
	if ops[0].Count != 2 || ops[0].Max < 4*time.Minute {
		t.Errorf("%+v", ops[0])
	}
}

// Open-loop records keep the service time beside the corrected latency.
func TestOpenLoopServiceTime(t *testing.T) {
	s := hist.NewSet(1)
	s.RecordOpen(0, "op", 50*time.Millisecond, time.Millisecond)
	s.Tick(time.Second)
	ops, _ := s.Summaries(time.Second)
	if ops[0].Service == nil || !within(ops[0].Service.P50, time.Millisecond) || !within(ops[0].P50, 50*time.Millisecond) {
		t.Errorf("%+v", ops[0])
	}
}

// Operations kept apart are reported but not merged into "all".
func TestKeepApart(t *testing.T) {
	s := hist.NewSet(1)
	s.KeepApart("deliver")
	s.Record(0, "publish", time.Millisecond)
	s.Record(0, "deliver", time.Second)
	s.Error(0, "deliver", "STORE_X")
	s.Tick(time.Second)
	ops, all := s.Summaries(time.Second)
	if len(ops) != 2 || all.Count != 1 || all.Max > 2*time.Millisecond || all.ErrorCount() != 0 {
		t.Errorf("ops %d, all %+v", len(ops), all)
	}
}

// An operation with errors only still has an empty (not nil) error map and spectrum, so its JSON
// holds every field; "all" too.
func TestEmptySummariesHaveEveryField(t *testing.T) {
	s := hist.NewSet(1)
	s.Error(0, "op", "STORE_TIMEOUT")
	s.Tick(time.Second)
	ops, all := s.Summaries(time.Second)
	if ops[0].Count != 0 || ops[0].Spectrum == nil || ops[0].Errors["STORE_TIMEOUT"] != 1 {
		t.Errorf("op: %+v", ops[0])
	}
	if empty := hist.Summarize("x", hist.New(), time.Second); empty.Errors == nil || empty.Spectrum == nil {
		t.Errorf("empty summary: %+v", empty)
	}
	if all.Errors == nil {
		t.Error("all.Errors is nil")
	}
}
