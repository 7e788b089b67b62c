package opsprom

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/igniter-go/store/ops"
)

// DefaultMaxStreams is the default of [WithMaxStreams]: how many (service, stream, group)
// label sets the stream metrics hold at once.
const DefaultMaxStreams = 1000

// StreamOther is the stream and group label value under which the stream metrics count the
// signals of consume loops beyond [WithMaxStreams], and, while such loops run, signals that come
// from no running loop (a handler that outlived its loop's StopGrace) on a stream and group with
// no loop running. Its series go when the last loop counted under it stops.
const StreamOther = "_other"

// WithMaxStreams caps the (service, stream, group) label sets of the stream metrics
// (MetricStreamConsumed, …Redelivered, …Reclaimed, …DeadLettered, …ConsumerLag, …Pending) that
// exist at once: a consume loop whose label set would exceed it counts under stream and group
// [StreamOther], and [MetricStreamOverflow] counts it. n ≤ 0 means the default,
// [DefaultMaxStreams].
func WithMaxStreams(n int) Option { return func(c *config) { c.maxStreams = n } }

// streamKey is the label values of a stream series.
type streamKey struct{ service, stream, group string }

func otherKey(service string) streamKey { return streamKey{service, StreamOther, StreamOther} }

// lagValue is a group instance's last lag report.
type lagValue struct{ lag, pending int64 }

// streamEntry is a live label set: its resolved counters and the group instances
// (ops.Signal.Source) that count under it, with their last lag reports.
type streamEntry struct {
	key                                    streamKey
	consumed, redelivered, reclaimed, dead prometheus.Counter
	sources                                map[uint64]lagValue
	lagged                                 bool // the lag and pending gauges exist
	// The sums over sources, kept as reports come and go (StreamOther may hold thousands).
	lag, pending int64
	unknown      int // sources whose lag Redis could not tell (lag < 0)
}

// set replaces src's lag report with v in the sums.
func (e *streamEntry) set(src uint64, v lagValue) {
	e.add(e.sources[src], -1)
	e.sources[src] = v
	e.add(v, 1)
}

// drop removes src and its last report.
func (e *streamEntry) drop(src uint64) {
	e.add(e.sources[src], -1)
	delete(e.sources, src)
}

func (e *streamEntry) add(v lagValue, sign int64) {
	if v.lag < 0 {
		e.unknown += int(sign)
	} else {
		e.lag += sign * v.lag
	}
	e.pending += sign * v.pending
}

// streamSeries holds the stream metrics' series. A (service, stream, group) label set exists
// while a consume loop counts under it: from the first signal of a group instance (every signal
// of a consume loop carries its ops.Signal.Source) to its ops.SignalConsumerStopped, which the
// store sends when its last loop on the group ends. When the last instance of a label set stops
// (two tenants' stores with the same stream and group names share one), its six series are
// deleted: a counter that comes back starts from 0, a reset Prometheus's rate() and increase()
// handle. The gauges are the sum over the label set's instances, never the last one to report.
//
// At most max label sets exist besides the [StreamOther] ones: the loops beyond count under
// StreamOther, each counted once by the overflow counter. A signal without a source whose label
// set is not live (a handler that outlived its loop) counts under StreamOther while folded loops
// count there, and is not counted otherwise: it never brings back or creates a label set that
// nothing would delete. A lag report without a source is ignored.
type streamSeries struct {
	consumed, redelivered, reclaimed, dead *prometheus.CounterVec
	lag, pending                           *prometheus.GaugeVec
	overflow                               *prometheus.CounterVec
	max                                    int

	mu      sync.RWMutex
	entries map[streamKey]*streamEntry
	owned   int // entries whose key is not StreamOther's
}

func (m *streamSeries) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.consumed, m.redelivered, m.reclaimed, m.dead, m.lag, m.pending, m.overflow}
}

// observe handles the signals of consume loops; it reports false for any other.
func (m *streamSeries) observe(s ops.Signal) bool {
	switch s.Kind {
	case ops.SignalConsumed:
		m.count(s, func(e *streamEntry) prometheus.Counter { return e.consumed }, 1)
	case ops.SignalRedelivered:
		m.count(s, func(e *streamEntry) prometheus.Counter { return e.redelivered }, 1)
	case ops.SignalReclaimed:
		m.count(s, func(e *streamEntry) prometheus.Counter { return e.reclaimed }, float64(s.N))
	case ops.SignalDeadLettered:
		m.count(s, func(e *streamEntry) prometheus.Counter { return e.dead }, 1)
	case ops.SignalConsumerLag:
		m.report(s)
	case ops.SignalConsumerStopped:
		m.stop(s)
	default:
		return false
	}
	return true
}

// count adds v to the counter pick returns of s's label set.
func (m *streamSeries) count(s ops.Signal, pick func(*streamEntry) prometheus.Counter, v float64) {
	k := streamKey{s.Service, s.Name, s.Group}
	m.mu.RLock()
	if e := m.find(k, s.Source); e != nil {
		pick(e).Add(v) // the common case: a known instance, no allocation, a shared lock
		m.mu.RUnlock()
		return
	}
	m.mu.RUnlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.register(k, s.Source); e != nil {
		pick(e).Add(v)
	}
}

// find returns the entry src counts under, or nil when it must be registered. Under mu, read or
// write. A signal without a source counts under its label set when that is live.
func (m *streamSeries) find(k streamKey, src uint64) *streamEntry {
	e := m.entries[k]
	if src == 0 {
		return e
	}
	if e != nil {
		if _, ok := e.sources[src]; ok {
			return e
		}
	}
	if o := m.entries[otherKey(k.service)]; o != nil {
		if _, ok := o.sources[src]; ok {
			return o // folded while the cap was reached: it stays there until it stops
		}
	}
	return nil
}

// register returns the entry src counts under from now on, creating it when needed. Under mu.
// A signal without a source (from no running loop) whose label set is not live counts under
// StreamOther while loops count there, and nowhere otherwise (nil): a label set it created
// would have no group instance, so no stop would ever delete its series.
func (m *streamSeries) register(k streamKey, src uint64) *streamEntry {
	if e := m.find(k, src); e != nil {
		return e
	}
	if src == 0 { // from no running loop, and k is not live
		return m.entries[otherKey(k.service)]
	}
	e := m.entries[k]
	if e == nil {
		if m.owned >= m.max {
			m.overflow.WithLabelValues(k.service).Inc()
			e = m.entry(otherKey(k.service))
		} else {
			e = m.entry(k)
		}
	}
	e.sources[src] = lagValue{}
	return e
}

// entry returns the entry of k, creating its counters (zero series, so increase() sees the
// first dead letter) when it does not exist. Under mu.
func (m *streamSeries) entry(k streamKey) *streamEntry {
	if e := m.entries[k]; e != nil {
		return e
	}
	e := &streamEntry{key: k, sources: map[uint64]lagValue{},
		consumed:    m.consumed.WithLabelValues(k.service, k.stream, k.group),
		redelivered: m.redelivered.WithLabelValues(k.service, k.stream, k.group),
		reclaimed:   m.reclaimed.WithLabelValues(k.service, k.stream, k.group),
		dead:        m.dead.WithLabelValues(k.service, k.stream, k.group)}
	m.entries[k] = e
	if k != otherKey(k.service) {
		m.owned++
	}
	m.overflow.WithLabelValues(k.service) // a service with consume loops shows its overflows, 0 too
	return e
}

// report records a lag report and sets its label set's gauges.
func (m *streamSeries) report(s ops.Signal) {
	if s.Source == 0 { // the gauges sum group instances' reports: one from none has no place
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.register(streamKey{s.Service, s.Name, s.Group}, s.Source)
	e.set(s.Source, lagValue{s.N, s.M})
	m.setGauges(e)
}

// stop drops the group instance s.Source, and deletes the series of a label set left with none.
func (m *streamSeries) stop(s ops.Signal) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := streamKey{s.Service, s.Name, s.Group}
	for _, key := range []streamKey{k, otherKey(k.service)} {
		e := m.entries[key]
		if e == nil {
			continue
		}
		if _, ok := e.sources[s.Source]; !ok {
			continue
		}
		e.drop(s.Source)
		if len(e.sources) > 0 {
			if e.lagged {
				m.setGauges(e)
			}
			continue
		}
		l := []string{key.service, key.stream, key.group}
		for _, v := range []*prometheus.CounterVec{m.consumed, m.redelivered, m.reclaimed, m.dead} {
			v.DeleteLabelValues(l...)
		}
		m.lag.DeleteLabelValues(l...)
		m.pending.DeleteLabelValues(l...)
		delete(m.entries, key)
		if key != otherKey(key.service) {
			m.owned--
		}
	}
}

// setGauges sets e's lag and pending to the sums over its group instances: -1 for the lag when
// the only lags are unknown ones. Under mu.
func (m *streamSeries) setGauges(e *streamEntry) {
	lag := e.lag
	if e.unknown > 0 && lag == 0 { // Redis could not tell the lag of any that has one
		lag = -1
	}
	k := e.key
	m.lag.WithLabelValues(k.service, k.stream, k.group).Set(float64(lag))
	m.pending.WithLabelValues(k.service, k.stream, k.group).Set(float64(e.pending))
	e.lagged = true
}
