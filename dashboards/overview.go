package dashboards

import (
	"github.com/igniter-go/store/telemetry/opsprom"
)

// quantiles are the latency quantiles the dashboards draw.
var quantiles = []string{"0.5", "0.99", "0.999"}

func overview() Dashboard {
	ops := sel(opsprom.MetricOperations, serviceMatch, namespaceMatch)
	failed := sel(opsprom.MetricOperations, serviceMatch, namespaceMatch, ne(opsprom.LabelOutcome, opsprom.OutcomeOK))
	errs := sel(opsprom.MetricErrors, serviceMatch, namespaceMatch)
	m := []string{serviceMatch, namespaceMatch}
	var latency []Target
	for _, q := range quantiles {
		latency = append(latency, target(opLatency.quantile(q, m, nil), "p"+q[2:]))
	}
	return Dashboard{UID: "igniter-store-overview", File: "overview.json", Title: "Igniter Store / Overview",
		Description: "Operations, errors, latency, in-flight, circuit breaker and retries of Igniter Store services.",
		Panels: []Panel{
			{Title: "Operations per second by operation", Unit: "ops",
				Description: "Finished operations per second (every outcome), one line per operation (kv.get, counter.increment…).",
				Targets:     []Target{target(sumBy(rate(ops), opsprom.LabelOperation), legend(opsprom.LabelOperation))}},
			{Title: "Error ratio by outcome", Unit: "percentunit",
				Description: "Share of operations that did not end ok, one line per outcome: unavailable, rejected (breaker open) and error are failures; not_found, conflict, invalid and canceled are answers the caller handles, except timeouts, which are canceled with code STORE_TIMEOUT (see Error ratio by code).",
				Targets:     []Target{target(ratio(rate(failed), rate(ops), nil, opsprom.LabelOutcome), legend(opsprom.LabelOutcome))}},
			{Title: "Error ratio by code", Unit: "percentunit",
				Description: "Share of operations that failed, one line per STORE_* code (STORE_CIRCUIT_OPEN, STORE_CONNECTION_FAILED…).",
				Targets:     []Target{target(ratio(rate(errs), rate(ops), nil, opsprom.LabelCode), legend(opsprom.LabelCode))}},
			{Title: "Latency p50 / p99 / p99.9", Unit: "s",
				Description: "Quantiles of the latency of every operation (retries included), from the native histogram where Prometheus scrapes it, else from the classic buckets (100µs to 10s).",
				Targets:     latency},
			{Title: "p99 latency by operation", Unit: "s",
				Description: "The 99th percentile of each operation's latency.",
				Targets:     []Target{target(opLatency.quantile("0.99", m, []string{opsprom.LabelOperation}), legend(opsprom.LabelOperation))}},
			{Title: "In flight", Unit: "short",
				Description: "Operations running now, by operation: a rising line with flat throughput means Redis or the network got slower.",
				Targets:     []Target{target(sumBy(sel(opsprom.MetricInFlight, m...), opsprom.LabelOperation), legend(opsprom.LabelOperation))}},
			{Title: "Circuit breaker state", Unit: "short",
				Description: "1 for each breaker's current state (closed, half-open, open), 0 for the others. Open means calls fail at once with STORE_CIRCUIT_OPEN.",
				Targets:     []Target{target(maxBy(sel(opsprom.MetricBreakerState, serviceMatch), opsprom.LabelBreaker, opsprom.LabelState), legend(opsprom.LabelBreaker, opsprom.LabelState))}},
			{Title: "Circuit breaker transitions", Unit: "short",
				Description: "Breaker state changes in each interval, by breaker and the state it went to.",
				Targets:     []Target{target(sumBy(increase(sel(opsprom.MetricBreakerTransitions, serviceMatch)), opsprom.LabelBreaker, opsprom.LabelTo), legend(opsprom.LabelBreaker, opsprom.LabelTo))}},
			{Title: "Retries and retry-budget refusals", Unit: "ops",
				Description: "Attempts retried per second by operation, and retries refused because the retry budget (10% of requests by default) was spent: refusals mean an outage is being ridden out without multiplying load.",
				Targets: []Target{
					target(sumBy(rate(sel(opsprom.MetricRetries, serviceMatch)), opsprom.LabelOperation), "retry "+legend(opsprom.LabelOperation)),
					target(sumBy(rate(sel(opsprom.MetricRetryBudgetExhausted, serviceMatch)), opsprom.LabelOperation), "budget spent "+legend(opsprom.LabelOperation)),
				}},
		}}
}
