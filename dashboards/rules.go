package dashboards

import (
	"bytes"
	"fmt"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/igniter-go/store/telemetry/opsprom"
)

// The service level objectives the burn-rate alerts defend.
const (
	// AvailabilityObjective: 99.9% of operations do not fail (outcome unavailable, rejected or
	// error, or code STORE_TIMEOUT), so the error budget is 0.1%.
	AvailabilityObjective = 0.999
	// LatencyObjective: 99% of operations finish within LatencyThreshold, i.e. p99 ≤ 25ms.
	LatencyObjective = 0.99
	// LatencyThreshold is the latency SLO's bound in seconds; it is one of
	// opsprom.DefaultBuckets, so the classic histogram answers it exactly.
	LatencyThreshold = 0.025
)

// RuleGroup is a Prometheus rule group.
type RuleGroup struct {
	Name     string `yaml:"name"`
	Interval string `yaml:"interval,omitempty"`
	Rules    []Rule `yaml:"rules"`
}

// Rule is a recording rule (Record) or an alert (Alert).
type Rule struct {
	Record      string            `yaml:"record,omitempty"`
	Alert       string            `yaml:"alert,omitempty"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// The burn-rate windows (Google SRE workbook, "multiwindow, multi-burn-rate alerts"): a page
// when 2% of a 30-day budget burns in an hour (14.4×, confirmed over 5m), a ticket when 5%
// burns in 6 hours (6×, confirmed over 30m).
var burnWindows = []string{"5m", "30m", "1h", "6h"}

// Recording rule names.
const (
	RecordOperationsRate = "igniter_store:operations:rate5m"
	recordFailurePrefix  = "igniter_store:failure_ratio:rate"
	recordSlowPrefix     = "igniter_store:slow_ratio:rate"
	RecordLatencyP99     = "igniter_store:latency_p99:rate5m"
	RecordLagDeriv       = "igniter_store:stream_consumer_lag:deriv10m"
)

// Alert names; docs/operations.md has a runbook paragraph for each.
const (
	AlertBreakerOpen         = "IgniterStoreBreakerOpen"
	AlertErrorBudgetFast     = "IgniterStoreErrorBudgetBurnFast"
	AlertErrorBudgetSlow     = "IgniterStoreErrorBudgetBurnSlow"
	AlertLatencyBudgetFast   = "IgniterStoreLatencyBudgetBurnFast"
	AlertLatencyBudgetSlow   = "IgniterStoreLatencyBudgetBurnSlow"
	AlertConsumerLagGrowing  = "IgniterStoreConsumerLagGrowing"
	AlertDeadLetters         = "IgniterStoreDeadLetters"
	AlertSubscriberDrops     = "IgniterStoreSubscriberDrops"
	consumerLagAlertMinimum  = "100"
	severityPage, severityTk = "critical", "warning"
)

// Rules returns the recording rules and the alerts.
func Rules() []RuleGroup {
	svc := []string{opsprom.LabelService}
	group := []string{opsprom.LabelService, opsprom.LabelStream, opsprom.LabelGroup}
	ops := sel(opsprom.MetricOperations)
	fast := sel(opsprom.MetricOperationDurationBucket, eq(opsprom.LabelLE, strconv.FormatFloat(LatencyThreshold, 'g', -1, 64)))
	count := sel(opsprom.MetricOperationDurationCount)

	rec := []Rule{{Record: RecordOperationsRate,
		Expr: sumBy(rate(ops, "5m"), opsprom.LabelService, opsprom.LabelNamespace, opsprom.LabelOperation, opsprom.LabelOutcome)}}
	for _, w := range burnWindows {
		rec = append(rec, Rule{Record: recordFailurePrefix + w, Expr: failureRatio(nil, svc, w)})
	}
	for _, w := range burnWindows {
		rec = append(rec, Rule{Record: recordSlowPrefix + w, Expr: "1 - (" + ratio(rate(fast, w), rate(count, w), svc) + ")"})
	}
	rec = append(rec,
		Rule{Record: RecordLatencyP99, Expr: "histogram_quantile(0.99, " +
			sumBy(rate(sel(opsprom.MetricOperationDurationBucket), "5m"), opsprom.LabelService, opsprom.LabelNamespace, opsprom.LabelLE) + ")"},
		Rule{Record: RecordLagDeriv, Expr: maxBy("deriv("+sel(opsprom.MetricStreamConsumerLag)+"[10m])", group...)},
	)

	burn := func(prefix string, budget float64, long, short, factor string) string {
		limit := "(" + factor + " * " + strconv.FormatFloat(budget, 'g', 3, 64) + ")"
		return prefix + long + " > " + limit + " and " + prefix + short + " > " + limit
	}
	errBudget, latBudget := 1-AvailabilityObjective, 1-LatencyObjective
	ms := strconv.FormatFloat(LatencyThreshold*1000, 'g', -1, 64)
	alert := func(name, expr, forDur, severity, summary, description string) Rule {
		return Rule{Alert: name, Expr: expr, For: forDur, Labels: map[string]string{"severity": severity},
			Annotations: map[string]string{"summary": summary, "description": description,
				"runbook": RunbookPage + "#" + lowerAnchor(name)}}
	}
	alerts := []Rule{
		alert(AlertBreakerOpen,
			// The gauge catches a breaker that stays open without traffic; the transition counter
			// catches an open state shorter than a scrape interval (open lasts 1s by default).
			maxBy("max_over_time("+sel(opsprom.MetricBreakerState, eq(opsprom.LabelState, opsprom.BreakerOpen))+"[1m])", opsprom.LabelService, opsprom.LabelBreaker)+" > 0 or "+
				sumBy(increase(sel(opsprom.MetricBreakerTransitions, eq(opsprom.LabelTo, opsprom.BreakerOpen)), "1m"), opsprom.LabelService, opsprom.LabelBreaker)+" > 0",
			"", severityPage, "Circuit breaker {{ $labels.breaker }} of {{ $labels.service }} is open",
			"The breaker was open in the last minute: Redis failed 5 calls in a row and the store failed calls at once with STORE_CIRCUIT_OPEN."),
		alert(AlertErrorBudgetFast, burn(recordFailurePrefix, errBudget, "1h", "5m", "14.4"), "2m", severityPage,
			"{{ $labels.service }} burns its availability error budget 14.4× too fast",
			"More than 1.44% of operations failed over the last hour and the last 5 minutes (objective: 99.9% succeed)."),
		alert(AlertErrorBudgetSlow, burn(recordFailurePrefix, errBudget, "6h", "30m", "6"), "15m", severityTk,
			"{{ $labels.service }} burns its availability error budget 6× too fast",
			"More than 0.6% of operations failed over the last 6 hours and the last 30 minutes (objective: 99.9% succeed)."),
		alert(AlertLatencyBudgetFast, burn(recordSlowPrefix, latBudget, "1h", "5m", "14.4"), "2m", severityPage,
			"{{ $labels.service }} p99 latency is far over "+ms+"ms",
			"More than 14.4% of operations took longer than "+ms+"ms over the last hour and the last 5 minutes (objective: p99 ≤ "+ms+"ms)."),
		alert(AlertLatencyBudgetSlow, burn(recordSlowPrefix, latBudget, "6h", "30m", "6"), "15m", severityTk,
			"{{ $labels.service }} p99 latency is over "+ms+"ms",
			"More than 6% of operations took longer than "+ms+"ms over the last 6 hours and the last 30 minutes (objective: p99 ≤ "+ms+"ms)."),
		alert(AlertConsumerLagGrowing,
			maxBy(sel(opsprom.MetricStreamConsumerLag), group...)+" > "+consumerLagAlertMinimum+" and "+RecordLagDeriv+" > 0", "10m", severityTk,
			"Consumer group {{ $labels.group }} falls behind on stream {{ $labels.stream }}",
			"The group's lag is over "+consumerLagAlertMinimum+" entries and has kept growing for 10 minutes."),
		alert(AlertDeadLetters, sumBy(increase(sel(opsprom.MetricStreamDeadLettered), "10m"), group...)+" > 0", "", severityTk,
			"Stream {{ $labels.stream }} dead-lettered entries for group {{ $labels.group }}",
			"Entries went to the dead-letter stream (<stream>:dead) in the last 10 minutes after failing MaxDeliveries times."),
		alert(AlertSubscriberDrops, sumBy(increase(sel(opsprom.MetricPubSubDropped), "10m"), opsprom.LabelService)+" > 0", "", severityTk,
			"{{ $labels.service }} dropped pub/sub messages",
			"Messages were dropped in the last 10 minutes because a subscription's buffer was full: a handler is slower than the publish rate."),
	}
	return []RuleGroup{
		{Name: "igniter-store.recording", Rules: rec},
		{Name: "igniter-store.alerts", Rules: alerts},
	}
}

// RulesYAML renders [Rules] as a Prometheus rule file.
func RulesYAML() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("# Generated by dashboards/cmd/generate from dashboards/rules.go; DO NOT EDIT.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(map[string][]RuleGroup{"groups": Rules()}); err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// RunbookPage is the page, from the repository root, whose "#### <alert>" headings are the
// alerts' runbooks.
const RunbookPage = "docs/operations.md"

// lowerAnchor is the GitHub anchor of a heading that is exactly name.
func lowerAnchor(name string) string {
	b := []byte(name)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
