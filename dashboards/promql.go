package dashboards

import (
	"fmt"
	"slices"
	"strings"

	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/telemetry/opsprom"
)

// The query helpers below write PromQL from opsprom's name constants; no query spells a metric
// or label name itself.

// Grafana variables and interval.
const (
	varDatasource   = "datasource"
	varService      = "service"
	varNamespace    = "namespace"
	rateInterval    = "$__rate_interval"
	datasourceUID   = "${" + varDatasource + "}"
	datasourceType  = "prometheus"
	allValue        = ".*"
	serviceMatch    = opsprom.LabelService + `=~"$` + varService + `"`
	namespaceMatch  = opsprom.LabelNamespace + `=~"$` + varNamespace + `"`
	quantileLegend  = "p%s"
	failedOutcomes  = opsprom.OutcomeUnavailable + "|" + opsprom.OutcomeRejected + "|" + opsprom.OutcomeError
	unscopedDisplay = "(unscoped)"
)

// sel is a vector selector: metric{matchers}.
func sel(metric string, matchers ...string) string {
	if len(matchers) == 0 {
		return metric
	}
	return metric + "{" + strings.Join(matchers, ", ") + "}"
}

func eq(label, value string) string { return label + `="` + value + `"` }
func ne(label, value string) string { return label + `!="` + value + `"` }
func re(label, value string) string { return label + `=~"` + value + `"` }

// rate is rate(x[window]); window defaults to Grafana's $__rate_interval.
func rate(x string, window ...string) string {
	w := rateInterval
	if len(window) > 0 {
		w = window[0]
	}
	return "rate(" + x + "[" + w + "])"
}

func increase(x string, window ...string) string {
	w := rateInterval
	if len(window) > 0 {
		w = window[0]
	}
	return "increase(" + x + "[" + w + "])"
}

// sumBy is sum by (labels) (x); no labels gives sum(x).
func sumBy(x string, labels ...string) string {
	if len(labels) == 0 {
		return "sum(" + x + ")"
	}
	return "sum by (" + strings.Join(labels, ", ") + ") (" + x + ")"
}

func maxBy(x string, labels ...string) string {
	return "max by (" + strings.Join(labels, ", ") + ") (" + x + ")"
}

// ratio divides the series of num (grouped by by+extra) by den (grouped by by), matching on by.
func ratio(num, den string, by []string, extra ...string) string {
	n := sumBy(num, append(by[:len(by):len(by)], extra...)...)
	d := sumBy(den, by...)
	if len(extra) == 0 {
		return n + " / " + d
	}
	return n + " / ignoring (" + strings.Join(extra, ", ") + ") group_left () " + d
}

// failures is the rate of failed operations by labels: outcome unavailable, rejected or error,
// plus operations that ran out of time (code STORE_TIMEOUT, whose outcome is canceled like a
// caller's cancellation). A term with no series counts 0, so one kind of failure is enough.
func failures(matchers []string, by []string, window ...string) string {
	failed := sel(opsprom.MetricOperations, append(slices.Clone(matchers), re(opsprom.LabelOutcome, failedOutcomes))...)
	timeouts := sel(opsprom.MetricErrors, append(slices.Clone(matchers), eq(opsprom.LabelCode, string(ops.CodeTimeout)))...)
	all := sel(opsprom.MetricOperations, matchers...)
	zero := " or 0 * " + sumBy(rate(all, window...), by...) + ")"
	return "(" + sumBy(rate(failed, window...), by...) + zero + " + (" + sumBy(rate(timeouts, window...), by...) + zero
}

// failureRatio is failures / all operations, by labels.
func failureRatio(matchers []string, by []string, window ...string) string {
	return "(" + failures(matchers, by, window...) + ") / " + sumBy(rate(sel(opsprom.MetricOperations, matchers...), window...), by...)
}

// histogram names one latency histogram: its native series and its classic bucket series.
type histogram struct{ native, bucket string }

var (
	opLatency      = histogram{opsprom.MetricOperationDuration, opsprom.MetricOperationDurationBucket}
	handlerLatency = histogram{opsprom.MetricHandlerDuration, opsprom.MetricHandlerDurationBucket}
)

// quantile is the q-quantile of h by labels over window: from the native histogram where
// Prometheus scrapes it, else from the classic buckets.
func (h histogram) quantile(q string, matchers []string, by []string, window ...string) string {
	native := "histogram_quantile(" + q + ", " + sumBy(rate(sel(h.native, matchers...), window...), by...) + ")"
	classic := "histogram_quantile(" + q + ", " + sumBy(rate(sel(h.bucket, matchers...), window...), append(by[:len(by):len(by)], opsprom.LabelLE)...) + ")"
	return native + " or " + classic
}

// unscoped names the series without a scope key so the legend says so.
func unscoped(x string) string {
	return fmt.Sprintf(`label_replace(%s, "%s", "%s", "%s", "")`, x, opsprom.LabelScopeKey, unscopedDisplay, opsprom.LabelScopeKey)
}
