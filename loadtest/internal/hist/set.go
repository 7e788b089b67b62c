package hist

import (
	"maps"
	"slices"
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Second is one elapsed second's numbers per operation.
type Second struct {
	// At is the end of the second, in seconds since the measured run began (a float: the last
	// interval of a run may be shorter than a second).
	At  float64             `json:"atSeconds"`
	Ops map[string]OpSecond `json:"ops"`
}

// OpSecond is one operation's numbers in one second. Latencies are integer nanoseconds in JSON,
// named so; every field is present.
type OpSecond struct {
	Count  int64         `json:"count"` // successes
	Errors int64         `json:"errors"`
	P50    time.Duration `json:"p50Ns"`
	P99    time.Duration `json:"p99Ns"`
	P999   time.Duration `json:"p999Ns"`
	Max    time.Duration `json:"maxNs"`
}

// Set collects a run's measurements. Record may be called from any goroutine; Tick (once a
// second) and Summaries from one goroutine at a time.
type Set struct {
	shards []shard

	mu      sync.Mutex
	total   map[string]*hdr.Histogram
	service map[string]*hdr.Histogram
	errs    map[string]map[string]int64
	// interval holds the second being summarised, one histogram per operation, reused.
	interval map[string]*hdr.Histogram
	scratch  *hdr.Histogram
	series   []Second
	last     time.Duration // At of the last tick
	// apart are operations reported on their own but not merged into "all".
	apart map[string]bool
}

// KeepApart reports ops on their own, without merging them into the "all" summary (the load
// test's deliveries and consumptions, which are not the workers' calls).
func (s *Set) KeepApart(ops ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.apart == nil {
		s.apart = map[string]bool{}
	}
	for _, op := range ops {
		s.apart[op] = true
	}
}

type shard struct {
	mu      sync.Mutex
	lat     map[string]*hdr.Histogram
	service map[string]*hdr.Histogram
	errs    map[string]map[string]int64
	_       [64]byte // keeps shards on separate cache lines
}

// NewSet returns a Set with n shards (at least 1). Callers spread Record calls over the shards
// by an index of their own (a worker number): any index is valid.
func NewSet(n int) *Set {
	s := &Set{shards: make([]shard, max(n, 1)), total: map[string]*hdr.Histogram{},
		service: map[string]*hdr.Histogram{}, errs: map[string]map[string]int64{}, interval: map[string]*hdr.Histogram{}, scratch: New()}
	for i := range s.shards {
		s.shards[i].reset()
	}
	return s
}

func (sh *shard) reset() {
	sh.lat, sh.service, sh.errs = map[string]*hdr.Histogram{}, map[string]*hdr.Histogram{}, map[string]map[string]int64{}
}

func histOf(m map[string]*hdr.Histogram, op string) *hdr.Histogram {
	h := m[op]
	if h == nil {
		h = New()
		m[op] = h
	}
	return h
}

// Record adds one successful operation's latency on shard i.
func (s *Set) Record(i int, op string, latency time.Duration) {
	sh := &s.shards[i%len(s.shards)]
	sh.mu.Lock()
	record(histOf(sh.lat, op), latency)
	sh.mu.Unlock()
}

// RecordOpen adds one successful open-loop operation: latency counts from the intended start
// (coordinated-omission corrected), service from the actual start.
func (s *Set) RecordOpen(i int, op string, latency, service time.Duration) {
	sh := &s.shards[i%len(s.shards)]
	sh.mu.Lock()
	record(histOf(sh.lat, op), latency)
	record(histOf(sh.service, op), service)
	sh.mu.Unlock()
}

// Error counts one failed operation by its code.
func (s *Set) Error(i int, op, code string) {
	sh := &s.shards[i%len(s.shards)]
	sh.mu.Lock()
	m := sh.errs[op]
	if m == nil {
		m = map[string]int64{}
		sh.errs[op] = m
	}
	m[code]++
	sh.mu.Unlock()
}

// Tick closes the second (or shorter interval) that ends at, time since the measured run began:
// it folds every shard into the run's totals and appends a [Second] to the series.
func (s *Set) Tick(at time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	intervalErrs := map[string]int64{}
	for _, h := range s.interval {
		h.Reset()
	}
	for i := range s.shards {
		sh := &s.shards[i]
		// Fold the shard under its lock, then reset it in place: its histograms are reused, so
		// a long run allocates nothing per second but the summary.
		sh.mu.Lock()
		for op, h := range sh.lat {
			if h.TotalCount() > 0 {
				histOf(s.interval, op).Merge(h)
				h.Reset()
			}
		}
		for op, h := range sh.service {
			if h.TotalCount() > 0 {
				histOf(s.service, op).Merge(h)
				h.Reset()
			}
		}
		for op, m := range sh.errs {
			t := s.errs[op]
			if t == nil {
				t = map[string]int64{}
				s.errs[op] = t
			}
			for code, n := range m {
				t[code] += n
				intervalErrs[op] += n
			}
			clear(m)
		}
		sh.mu.Unlock()
	}
	sec := Second{At: at.Seconds(), Ops: map[string]OpSecond{}}
	for op, h := range s.interval {
		if h.TotalCount() == 0 {
			continue
		}
		v := h.ValueAtPercentiles([]float64{50, 99, 99.9})
		sec.Ops[op] = OpSecond{Count: h.TotalCount(), Errors: intervalErrs[op], P50: time.Duration(v[50]),
			P99: time.Duration(v[99]), P999: time.Duration(v[99.9]), Max: time.Duration(h.Max())}
		histOf(s.total, op).Merge(h)
	}
	for op, n := range intervalErrs {
		if _, ok := sec.Ops[op]; !ok {
			sec.Ops[op] = OpSecond{Errors: n}
		}
	}
	if at > s.last {
		s.series = append(s.series, sec)
		s.last = at
	}
}

// Series returns the per-second summaries so far.
func (s *Set) Series() []Second {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.series)
}

// Summaries returns every operation's run-wide numbers over elapsed, by operation name, plus
// "all" merging them (but those kept apart); call Tick first to fold the last interval in.
func (s *Set) Summaries(elapsed time.Duration) (perOp []Summary, all Summary) {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := slices.Sorted(maps.Keys(s.total))
	for op := range s.errs {
		if _, ok := s.total[op]; !ok {
			names = append(names, op)
		}
	}
	slices.Sort(names)
	merged := s.scratch
	merged.Reset()
	allErrs := map[string]int64{}
	for _, op := range names {
		h := s.total[op]
		if h == nil {
			h = New()
		}
		sum := Summarize(op, h, elapsed)
		if svc := s.service[op]; svc != nil {
			ss := Summarize(op, svc, elapsed)
			ss.Spectrum = []Point{}
			sum.Service = &ss
		}
		if e := s.errs[op]; len(e) > 0 {
			maps.Copy(sum.Errors, e)
			for c, n := range e {
				if !s.apart[op] {
					allErrs[c] += n
				}
			}
		}
		if !s.apart[op] {
			merged.Merge(h)
		}
		perOp = append(perOp, sum)
	}
	all = Summarize("all", merged, elapsed)
	all.Errors = allErrs
	return perOp, all
}

// Total returns the number of successful operations folded in so far (by Tick).
func (s *Set) Total() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for _, h := range s.total {
		n += h.TotalCount()
	}
	return n
}

// Count returns op's successful and failed operations folded in so far (by Tick): the
// numbers its report row shows.
func (s *Set) Count(op string) (ok, failed int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h := s.total[op]; h != nil {
		ok = h.TotalCount()
	}
	for _, n := range s.errs[op] {
		failed += n
	}
	return ok, failed
}

// CountAbove returns how many of op's recorded latencies (folded in by Tick) exceed d, to
// HDR precision.
func (s *Set) CountAbove(op string, d time.Duration) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.total[op]
	if h == nil {
		return 0
	}
	var n int64
	for _, b := range h.Distribution() {
		if b.From > int64(d) {
			n += b.Count
		}
	}
	return n
}
