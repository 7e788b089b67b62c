package dashboards

import (
	"github.com/igniter-go/store/telemetry/opsprom"
)

func tenancy() Dashboard {
	m := []string{serviceMatch, namespaceMatch}
	ops := sel(opsprom.MetricOperations, m...)
	by := []string{opsprom.LabelScopeKey}
	return Dashboard{UID: "igniter-store-tenancy", File: "tenancy.json", Title: "Igniter Store / Tenancy",
		Description: "The overview by scope key (organization, tenant…): which kind of tenant drives load, errors and latency. Scope ids are never labels, so this is per scope key, not per tenant.",
		Panels: []Panel{
			{Title: "Operations per second by scope key", Unit: "ops",
				Description: "Finished operations per second of stores scoped by each scope key (the innermost scope); (unscoped) is the root store.",
				Targets:     []Target{target(unscoped(sumBy(rate(ops), by...)), legend(by...))}},
			{Title: "Failure ratio by scope key", Unit: "percentunit",
				Description: "Share of each scope key's operations that failed: outcome unavailable, rejected or error, or a timeout (STORE_TIMEOUT).",
				Targets:     []Target{target(unscoped(failureRatio(m, by)), legend(by...))}},
			{Title: "p99 latency by scope key", Unit: "s",
				Description: "The 99th percentile latency of each scope key's operations.",
				Targets:     []Target{target(unscoped(opLatency.quantile("0.99", m, by)), legend(by...))}},
			{Title: "Operations per second by scope key and namespace", Unit: "ops",
				Description: "The same throughput split by namespace (kv, counter, claim, lease, batch, events, stream, dev).",
				Targets:     []Target{target(unscoped(sumBy(rate(ops), opsprom.LabelScopeKey, opsprom.LabelNamespace)), legend(opsprom.LabelScopeKey, opsprom.LabelNamespace))}},
			{Title: "In flight by scope key", Unit: "short",
				Description: "Operations running now, by scope key.",
				Targets:     []Target{target(unscoped(sumBy(sel(opsprom.MetricInFlight, m...), by...)), legend(by...))}},
		}}
}
