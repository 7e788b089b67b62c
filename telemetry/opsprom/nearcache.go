package opsprom

import (
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/igniter-go/store/ops"
)

// nearMetrics are the near cache's counters (package nearcache), all labelled by service.
type nearMetrics struct {
	hits, misses, invalidations, losses, evicted *prometheus.CounterVec
}

func newNearMetrics(counter func(name, help string, labels ...string) *prometheus.CounterVec) nearMetrics {
	return nearMetrics{
		hits:          counter(MetricNearCacheHits, "Near-cache reads answered from process memory.", LabelService),
		misses:        counter(MetricNearCacheMisses, "Near-cache reads that were not in memory and went to Redis.", LabelService),
		invalidations: counter(MetricNearCacheInvalidations, "Invalidation messages from Redis applied to the near cache.", LabelService),
		losses:        counter(MetricNearCacheConnectionLosses, "Near-cache connections lost with cached entries on them.", LabelService),
		evicted:       counter(MetricNearCacheEvicted, "Near-cache entries evicted because the connection that fetched them was lost.", LabelService),
	}
}

func (n nearMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{n.hits, n.misses, n.invalidations, n.losses, n.evicted}
}

// nearSeries are one service's resolved near-cache counters: a hit costs a slice scan and an
// atomic add, not a label hash.
type nearSeries struct {
	service                                      string
	hits, misses, invalidations, losses, evicted prometheus.Counter
}

// nearOf returns the near-cache counters of service, resolving them on first use (Prepare does
// it before the first event). Copy-on-write like seriesOf.
func (m *Metrics) nearOf(service string) *nearSeries {
	if list := m.nearList.Load(); list != nil {
		for _, s := range *list {
			if s.service == service {
				return s
			}
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var list []*nearSeries
	if p := m.nearList.Load(); p != nil {
		for _, s := range *p {
			if s.service == service {
				return s
			}
		}
		list = slices.Clone(*p)
	}
	s := &nearSeries{service: service,
		hits: m.near.hits.WithLabelValues(service), misses: m.near.misses.WithLabelValues(service),
		invalidations: m.near.invalidations.WithLabelValues(service), losses: m.near.losses.WithLabelValues(service),
		evicted: m.near.evicted.WithLabelValues(service)}
	list = append(list, s)
	m.nearList.Store(&list)
	return s
}

// observeNear counts a near-cache signal; it reports false for any other kind.
func (m *Metrics) observeNear(s ops.Signal) bool {
	switch s.Kind {
	case ops.SignalNearHit:
		m.nearOf(s.Service).hits.Inc()
	case ops.SignalNearMiss:
		m.nearOf(s.Service).misses.Inc()
	case ops.SignalNearInvalidated:
		m.nearOf(s.Service).invalidations.Inc()
	case ops.SignalNearConnectionLost:
		n := m.nearOf(s.Service)
		n.losses.Inc()
		n.evicted.Add(float64(max(s.N, 0)))
	case ops.SignalNearFlushed:
		// A flush (Close, FLUSHDB, tracking lost as a whole) is logged, not counted.
	default:
		return false
	}
	return true
}
