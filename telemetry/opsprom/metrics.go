package opsprom

import (
	"context"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/igniter-go/store/ops"
)

// Option configures [New].
type Option func(*config)

type config struct {
	buckets     []float64
	constLabels prometheus.Labels
	native      bool
	maxStreams  int
}

// WithBuckets sets the classic buckets of the latency histogram, in seconds. Default:
// [DefaultBuckets].
func WithBuckets(b []float64) Option { return func(c *config) { c.buckets = slices.Clone(b) } }

// WithConstLabels adds constant labels to every metric (e.g. the region). Default: none.
func WithConstLabels(l prometheus.Labels) Option { return func(c *config) { c.constLabels = l } }

// WithoutNativeHistogram keeps the latency histogram classic only. Default: native on.
func WithoutNativeHistogram() Option { return func(c *config) { c.native = false } }

// Metrics is a prometheus.Collector of the store's metrics. Register it, then give
// [Metrics.Middleware] and the Metrics itself (an ops.Observer) to the store.
type Metrics struct {
	ops        *prometheus.CounterVec
	errs       *prometheus.CounterVec
	handler    *prometheus.HistogramVec
	duration   *prometheus.HistogramVec
	inFlight   *prometheus.GaugeVec
	retries    *prometheus.CounterVec
	budget     *prometheus.CounterVec
	brState    *prometheus.GaugeVec
	brTrans    *prometheus.CounterVec
	delivered  *prometheus.CounterVec
	dropped    *prometheus.CounterVec
	reconnects *prometheus.CounterVec
	failures   *prometheus.CounterVec
	invalid    *prometheus.CounterVec
	streams    *streamSeries // the stream metrics, capped and deleted when loops end (streams.go)
	near       nearMetrics

	// epoch is when New ran: an op's duration is the difference of two time.Since(epoch),
	// which read only the monotonic clock, where time.Now reads the wall clock as well.
	epoch time.Time

	// byKind[k] holds the resolved series of kind k, one entry per (service, scope key) seen.
	// It is copy-on-write: readers load it without locking; mu serialises writers.
	byKind []atomic.Pointer[[]*series]
	// nearList holds the near-cache counters of each service seen, copy-on-write like byKind.
	nearList atomic.Pointer[[]*nearSeries]
	mu       sync.Mutex
	// prepared holds the (service, breaker) pairs Prepare has seen, under mu.
	prepared map[[2]string]bool
}

var (
	_ prometheus.Collector = (*Metrics)(nil)
	_ ops.Observer         = (*Metrics)(nil)
)

// series are the resolved metrics of one (kind, service, scope key).
type series struct {
	service  string
	scopeKey string
	outcome  [len(outcomes)]prometheus.Counter
	duration prometheus.Observer
	inFlight prometheus.Gauge
	// codes holds the error-code counters seen so far, copy-on-write under Metrics.mu.
	codes  atomic.Pointer[map[ops.Code]prometheus.Counter]
	labels [4]string // service, scope key, namespace, operation
}

// New returns the store's metrics, registered nowhere.
func New(opts ...Option) *Metrics {
	c := config{buckets: DefaultBuckets, native: true}
	for _, o := range opts {
		o(&c)
	}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: c.constLabels}, labels)
	}
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: c.constLabels}, labels)
	}
	hopts := prometheus.HistogramOpts{Name: MetricOperationDuration, Help: "Latency of store operations in seconds, retries included.",
		Buckets: c.buckets, ConstLabels: c.constLabels}
	if c.native {
		hopts.NativeHistogramBucketFactor = 1.1
		hopts.NativeHistogramMaxBucketNumber = 160
		hopts.NativeHistogramMinResetDuration = time.Hour
	}
	op := []string{LabelService, LabelScopeKey, LabelNamespace, LabelOperation}
	hh := prometheus.HistogramOpts{Name: MetricHandlerDuration, Help: "How long event and stream handlers ran, in seconds.",
		Buckets: c.buckets, ConstLabels: c.constLabels}
	hh.NativeHistogramBucketFactor, hh.NativeHistogramMaxBucketNumber, hh.NativeHistogramMinResetDuration =
		hopts.NativeHistogramBucketFactor, hopts.NativeHistogramMaxBucketNumber, hopts.NativeHistogramMinResetDuration
	stream := []string{LabelService, LabelStream, LabelGroup}
	if c.maxStreams <= 0 {
		c.maxStreams = DefaultMaxStreams
	}
	m := &Metrics{epoch: time.Now(),
		ops:        counter(MetricOperations, "Store operations by outcome.", LabelService, LabelScopeKey, LabelNamespace, LabelOperation, LabelOutcome),
		errs:       counter(MetricErrors, "Failed store operations by error code.", LabelService, LabelScopeKey, LabelNamespace, LabelOperation, LabelCode),
		handler:    prometheus.NewHistogramVec(hh, []string{LabelService, LabelSource}),
		duration:   prometheus.NewHistogramVec(hopts, op),
		inFlight:   gauge(MetricInFlight, "Store operations running now.", op...),
		retries:    counter(MetricRetries, "Attempts that failed and were retried.", LabelService, LabelOperation),
		budget:     counter(MetricRetryBudgetExhausted, "Retries refused because the retry budget was spent.", LabelService, LabelOperation),
		brState:    gauge(MetricBreakerState, "1 for the circuit breaker's current state, 0 for the others.", LabelService, LabelBreaker, LabelState),
		brTrans:    counter(MetricBreakerTransitions, "Circuit breaker state changes.", LabelService, LabelBreaker, LabelFrom, LabelTo),
		delivered:  counter(MetricPubSubDelivered, "Pub/sub messages given to handlers.", LabelService),
		dropped:    counter(MetricPubSubDropped, "Pub/sub messages dropped by full subscription buffers.", LabelService),
		reconnects: counter(MetricPubSubReconnects, "Subscriber reconnections.", LabelService),
		failures:   counter(MetricHandlerFailures, "Handler errors and panics.", LabelService, LabelSource),
		invalid:    counter(MetricMessagesInvalid, "Inbound messages and entries that could not be decoded.", LabelService, LabelSource),
		streams: &streamSeries{
			consumed:    counter(MetricStreamConsumed, "Stream entries handled and acknowledged.", stream...),
			redelivered: counter(MetricStreamRedelivered, "Failed stream entries left pending for redelivery.", stream...),
			reclaimed:   counter(MetricStreamReclaimed, "Idle stream entries claimed from dead consumers.", stream...),
			dead:        counter(MetricStreamDeadLettered, "Stream entries moved to the dead-letter stream.", stream...),
			lag:         gauge(MetricStreamConsumerLag, "Entries of the stream not yet delivered to the group.", stream...),
			pending:     gauge(MetricStreamPending, "Entries delivered to the group and not yet acknowledged.", stream...),
			overflow: counter(MetricStreamOverflow, `Consume loops whose stream and group got no series of their own because the cap was reached; their signals count under "_other".`,
				LabelService),
			max:     c.maxStreams,
			entries: map[streamKey]*streamEntry{},
		},
		near:     newNearMetrics(counter),
		byKind:   make([]atomic.Pointer[[]*series], len(ops.Kinds())+1),
		prepared: map[[2]string]bool{},
	}
	return m
}

func (m *Metrics) collectors() []prometheus.Collector {
	cs := []prometheus.Collector{m.ops, m.errs, m.handler, m.duration, m.inFlight, m.retries, m.budget, m.brState, m.brTrans,
		m.delivered, m.dropped, m.reconnects, m.failures, m.invalid}
	cs = append(cs, m.streams.collectors()...)
	return append(cs, m.near.collectors()...)
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.collectors() {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.collectors() {
		c.Collect(ch)
	}
}

// Middleware counts and times every operation. Put it in the outermost chain position so the
// latency covers retries and the outcome is the logical operation's.
func (m *Metrics) Middleware() ops.Middleware {
	return func(next ops.Handler) ops.Handler {
		return func(ctx context.Context, op ops.Op) (ops.Result, error) {
			s := m.seriesOf(op.Kind, op.Service, op.ScopeKey)
			s.inFlight.Inc()
			start := time.Since(m.epoch)
			res, err := next(ctx, op)
			s.duration.Observe((time.Since(m.epoch) - start).Seconds())
			s.inFlight.Dec()
			i := 0
			if err != nil {
				i = outcomeIndex(ops.Outcome(err))
				if i != 0 {
					m.codeCounter(s, ops.CodeOf(err)).Inc()
				}
			}
			s.outcome[i].Inc()
			return res, err
		}
	}
}

// seriesOf returns the cached series of (k, service, scopeKey), resolving them on first use.
func (m *Metrics) seriesOf(k ops.Kind, service, scopeKey string) *series {
	if int(k) >= len(m.byKind) {
		k = ops.KindUnknown
	}
	if list := m.byKind[k].Load(); list != nil {
		for _, s := range *list {
			if s.service == service && s.scopeKey == scopeKey {
				return s
			}
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var list []*series
	if p := m.byKind[k].Load(); p != nil {
		for _, s := range *p {
			if s.service == service && s.scopeKey == scopeKey {
				return s
			}
		}
		list = slices.Clone(*p)
	}
	ns, name := k.Group(), k.Operation()
	s := &series{service: service, scopeKey: scopeKey, labels: [4]string{service, scopeKey, ns, name},
		duration: m.duration.WithLabelValues(service, scopeKey, ns, name),
		inFlight: m.inFlight.WithLabelValues(service, scopeKey, ns, name)}
	for i, o := range outcomes {
		s.outcome[i] = m.ops.WithLabelValues(service, scopeKey, ns, name, o)
	}
	list = append(list, s)
	m.byKind[k].Store(&list)
	return s
}

// codeCounter returns the error counter of code for s, creating it on first use.
func (m *Metrics) codeCounter(s *series, code ops.Code) prometheus.Counter {
	if p := s.codes.Load(); p != nil {
		if c, ok := (*p)[code]; ok {
			return c
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	codes := map[ops.Code]prometheus.Counter{}
	if p := s.codes.Load(); p != nil {
		if c, ok := (*p)[code]; ok {
			return c
		}
		codes = maps.Clone(*p)
	}
	c := m.errs.WithLabelValues(s.labels[0], s.labels[1], s.labels[2], s.labels[3], string(code))
	codes[code] = c
	s.codes.Store(&codes)
	return c
}

// Observe counts a signal. It implements ops.Observer.
func (m *Metrics) Observe(_ context.Context, s ops.Signal) {
	if m.observeNear(s) { // first: a near-cache hit is the hottest signal
		return
	}
	switch s.Kind {
	case ops.SignalDelivered:
		m.delivered.WithLabelValues(s.Service).Inc()
		m.handler.WithLabelValues(s.Service, SourceEvents).Observe(s.Duration.Seconds())
	case ops.SignalDropped:
		n := s.N
		if n <= 0 {
			n = 1
		}
		m.dropped.WithLabelValues(s.Service).Add(float64(n))
	case ops.SignalReconnected:
		m.reconnects.WithLabelValues(s.Service).Inc()
	case ops.SignalHandlerFailed:
		m.failures.WithLabelValues(s.Service, source(s)).Inc()
		m.handler.WithLabelValues(s.Service, source(s)).Observe(s.Duration.Seconds())
	case ops.SignalMessageInvalid:
		m.invalid.WithLabelValues(s.Service, source(s)).Inc()
	case ops.SignalConsumed:
		m.streams.observe(s)
		m.handler.WithLabelValues(s.Service, SourceStream).Observe(s.Duration.Seconds())
	case ops.SignalRedelivered, ops.SignalReclaimed, ops.SignalDeadLettered, ops.SignalConsumerLag, ops.SignalConsumerStopped:
		// streams.go: a loop's counters exist from its first signal, so increase() sees its first
		// dead letter; capped; deleted when the last loop of their stream and group ends.
		m.streams.observe(s)
	case ops.SignalRetry:
		m.retries.WithLabelValues(s.Service, s.Op.Operation()).Inc()
	case ops.SignalRetryBudget:
		m.budget.WithLabelValues(s.Service, s.Op.Operation()).Inc()
	case ops.SignalBreakerState:
		m.brTrans.WithLabelValues(s.Service, s.Name, s.From, s.To).Inc()
		for _, st := range breakerStates {
			v := 0.0
			if st == s.To {
				v = 1
			}
			m.brState.WithLabelValues(s.Service, s.Name, st).Set(v)
		}
	}
}

func source(s ops.Signal) string {
	if s.Group != "" {
		return SourceStream
	}
	return SourceEvents
}
