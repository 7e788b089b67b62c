package hist

import (
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram range: 1 µs resolution (values are nanoseconds), 3 significant digits (0.1 %), up
// to Highest; longer latencies are recorded as Highest.
const (
	Lowest  = int64(time.Microsecond)
	Highest = int64(5 * time.Minute)
	Digits  = 3
)

// New returns an empty histogram of the package's range and precision.
func New() *hdr.Histogram { return hdr.New(Lowest, Highest, Digits) }

// record adds d to h, clamped to the histogram's range.
func record(h *hdr.Histogram, d time.Duration) {
	v := int64(d)
	v = min(max(v, 0), Highest)
	_ = h.RecordValue(v) // in range by construction
}

// Percentiles are the percentiles a [Summary] and a [Second] report.
var Percentiles = []float64{50, 90, 99, 99.9, 99.99, 100}

// SpectrumPercentiles are the points of a latency distribution (percentile spectrum) chart.
var SpectrumPercentiles = []float64{0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.999, 100}

// Summary is one operation's run-wide numbers. In JSON every field is present (zero values
// included) and durations are integer nanoseconds, named so (p50Ns); see
// loadtest/report.schema.json.
type Summary struct {
	Op string `json:"op"`
	// Count is the successful operations; the latencies are theirs. Errors are counted apart.
	Count  int64            `json:"count"`
	Rate   float64          `json:"opsPerSec"`
	Errors map[string]int64 `json:"errors"` // by STORE_* code; never nil
	Mean   time.Duration    `json:"meanNs"`
	P50    time.Duration    `json:"p50Ns"`
	P90    time.Duration    `json:"p90Ns"`
	P99    time.Duration    `json:"p99Ns"`
	P999   time.Duration    `json:"p999Ns"`
	P9999  time.Duration    `json:"p9999Ns"`
	Max    time.Duration    `json:"maxNs"`
	// Service is the service time (from the actual start of the call) in an open-loop run,
	// where the latency above counts from the intended start; nil (JSON null) in a closed loop.
	Service *Summary `json:"service"`
	// Spectrum is the latency at each of SpectrumPercentiles; empty when Count is 0 and for
	// a service time.
	Spectrum []Point `json:"spectrum"`
}

// Point is a latency at a percentile.
type Point struct {
	Percentile float64       `json:"percentile"`
	Latency    time.Duration `json:"latencyNs"`
}

// ErrorCount returns the total of s.Errors.
func (s Summary) ErrorCount() int64 {
	var n int64
	for _, c := range s.Errors {
		n += c
	}
	return n
}

// Summarize returns h's numbers for op over elapsed.
func Summarize(op string, h *hdr.Histogram, elapsed time.Duration) Summary {
	s := Summary{Op: op, Count: h.TotalCount(), Errors: map[string]int64{}, Spectrum: []Point{}}
	if elapsed > 0 {
		s.Rate = float64(s.Count) / elapsed.Seconds()
	}
	if s.Count == 0 {
		return s
	}
	v := h.ValueAtPercentiles(Percentiles)
	s.Mean = time.Duration(h.Mean())
	s.P50, s.P90, s.P99 = time.Duration(v[50]), time.Duration(v[90]), time.Duration(v[99])
	s.P999, s.P9999, s.Max = time.Duration(v[99.9]), time.Duration(v[99.99]), time.Duration(h.Max())
	sp := h.ValueAtPercentiles(SpectrumPercentiles)
	for _, p := range SpectrumPercentiles {
		s.Spectrum = append(s.Spectrum, Point{Percentile: p, Latency: time.Duration(sp[p])})
	}
	return s
}
