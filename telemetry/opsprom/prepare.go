package opsprom

import (
	"github.com/igniter-go/store/ops"
)

// Prepare publishes the series of a store before its first event, so a dashboard of a quiet
// service shows zeros rather than "no data" and increase() counts the first failure:
//
//   - operations: a zero count of every outcome, an empty latency histogram and a zero
//     in-flight gauge for every operation kind, unscoped and for each of scopeKeys (the series
//     the first operation of each would create); zero retries and retry-budget refusals;
//   - signals: zero pub/sub deliveries, drops and reconnects, handler failures, invalid
//     messages and an empty handler-latency histogram for both sources; zero near-cache hits,
//     misses, invalidations, connection losses and evictions; zero stream-series overflows;
//   - the breaker (when breaker is not ""): state closed, and zero counts of its four
//     transitions. A (service, breaker) pair is set only by its first Prepare, so a second store
//     of the same service cannot overwrite a breaker that is open.
//
// A stream's consumer counters appear with the first signal of its consume loop (the stream and
// group names are not known before), and go when its last loop stops.
// client.Builder.Build calls Prepare when the store's metrics instrument has it.
func (m *Metrics) Prepare(service string, scopeKeys []string, breaker string) {
	for _, k := range ops.Kinds() {
		for _, sk := range append([]string{""}, scopeKeys...) {
			m.seriesOf(k, service, sk)
		}
		m.retries.WithLabelValues(service, k.Operation())
		m.budget.WithLabelValues(service, k.Operation())
	}
	m.delivered.WithLabelValues(service)
	m.dropped.WithLabelValues(service)
	m.reconnects.WithLabelValues(service)
	m.streams.overflow.WithLabelValues(service)
	for _, src := range []string{SourceEvents, SourceStream} {
		m.failures.WithLabelValues(service, src)
		m.invalid.WithLabelValues(service, src)
		m.handler.WithLabelValues(service, src)
	}
	m.nearOf(service)
	if breaker == "" {
		return
	}
	m.mu.Lock()
	first := !m.prepared[[2]string{service, breaker}]
	m.prepared[[2]string{service, breaker}] = true
	m.mu.Unlock()
	if !first {
		return
	}
	for _, st := range breakerStates {
		v := 0.0
		if st == BreakerClosed {
			v = 1
		}
		m.brState.WithLabelValues(service, breaker, st).Set(v)
	}
	for _, t := range [][2]string{{BreakerClosed, BreakerOpen}, {BreakerOpen, BreakerHalfOpen},
		{BreakerHalfOpen, BreakerClosed}, {BreakerHalfOpen, BreakerOpen}} {
		m.brTrans.WithLabelValues(service, breaker, t[0], t[1])
	}
}
