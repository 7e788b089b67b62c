// Package opsprom measures store operations and signals with Prometheus
// (github.com/prometheus/client_golang).
//
// [New] returns a [Metrics], a prometheus.Collector that the caller registers on the
// registry of its choice; nothing is registered on the global registry. Its
// [Metrics.Middleware] counts and times every operation, and [Metrics.Observe] (an ops.Observer)
// counts the signals: retries, breaker transitions, pub/sub deliveries, drops and reconnects,
// stream consumer progress, lag and dead letters, and the near cache's hits, misses,
// invalidations and connection losses. client.Builder.WithMetrics wires both.
//
// # Names and labels
//
// Metric names, label names and label values are exported constants, and [Labels] lists each
// metric's labels (the dashboards in dashboards/ are built from them and checked against them).
// Labels are low-cardinality by construction: service, scope_key (the innermost scope's key as
// declared by the application, "" when unscoped — never the scope id), namespace (the operation
// group: kv, counter, claim, lease, batch, events, stream, dev), operation (kv.get,
// claim.once…) and outcome (the ops.Outcome of the error). The stream metrics add the stream and consumer group names, which
// are part of an application's schema; the breaker metrics add the breaker's name. No label
// ever holds a key, a scope id, a message id or a payload.
//
// # Stream series
//
// Stream and group names can be many (a stream per tenant or per job), so the stream metrics
// hold only the (service, stream, group) label sets of running consume loops: a label set's
// series appear with its loop's first signal and are deleted when the last loop on it in the
// process stops (a counter that comes back starts at 0, a reset rate() and increase() handle).
// At most [DefaultMaxStreams] label sets exist at once ([WithMaxStreams]); a loop beyond counts
// under stream and group [StreamOther] ("_other"), and [MetricStreamOverflow] counts such loops.
//
// [Metrics.Prepare] (client.Builder.Build calls it) publishes zero series for every operation
// and signal and the breaker's closed state before the first event, so a quiet service's
// dashboards show zeros and increase() sees a first failure.
//
// The latency histogram keeps classic buckets from 100µs (see [DefaultBuckets]) and is also a
// native histogram, so a Prometheus that scrapes native histograms gets fine resolution
// without more series.
//
// # Cost
//
// The series of an operation kind are resolved once per service and cached, so the middleware
// does no label hashing and no allocation per operation.
//
// A Metrics is safe for concurrent use.
package opsprom
