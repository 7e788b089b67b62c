package dashboards

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/telemetry/opsprom"
)

// RuleTestsFile is the promtool unit-test file of the rules (promtool test rules).
const RuleTestsFile = "prometheus/rules_test.yml"

// ruleTest is one promtool test: input series (at a 1m interval unless set), and for one alert the alerts
// expected at one time. Expected annotations are rendered from the rule's own templates.
type ruleTest struct {
	alert  string
	series map[string]string // series → promtool values notation
	at     string
	firing []map[string]string // labels of each firing alert, severity excluded
	// interval is the input series' interval; default 1m.
	interval string
}

// sample series labels of the tests.
func s(metric string, labels ...string) string {
	pairs := make([]string, 0, len(labels)/2)
	for i := 0; i+1 < len(labels); i += 2 {
		pairs = append(pairs, labels[i]+`="`+labels[i+1]+`"`)
	}
	return metric + "{" + strings.Join(pairs, ", ") + "}"
}

// ruleTests are the unit tests: each alert fires on the failure it describes and stays silent
// on a healthy or recovered service.
func ruleTests() []ruleTest {
	svc := map[string]string{opsprom.LabelService: "shop"}
	grp := map[string]string{opsprom.LabelService: "shop", opsprom.LabelStream: "orders", opsprom.LabelGroup: "billing"}
	brk := map[string]string{opsprom.LabelService: "shop", opsprom.LabelBreaker: "redis"}
	ok := s(opsprom.MetricOperations, opsprom.LabelService, "shop", opsprom.LabelNamespace, "kv", opsprom.LabelOperation, "kv.get", opsprom.LabelOutcome, opsprom.OutcomeOK)
	down := s(opsprom.MetricOperations, opsprom.LabelService, "shop", opsprom.LabelNamespace, "kv", opsprom.LabelOperation, "kv.get", opsprom.LabelOutcome, opsprom.OutcomeUnavailable)
	miss := s(opsprom.MetricOperations, opsprom.LabelService, "shop", opsprom.LabelNamespace, "kv", opsprom.LabelOperation, "kv.get", opsprom.LabelOutcome, opsprom.OutcomeNotFound)
	bucket := s(opsprom.MetricOperationDurationBucket, opsprom.LabelService, "shop", opsprom.LabelNamespace, "kv", opsprom.LabelOperation, "kv.get", opsprom.LabelLE, "0.025")
	count := s(opsprom.MetricOperationDurationCount, opsprom.LabelService, "shop", opsprom.LabelNamespace, "kv", opsprom.LabelOperation, "kv.get")
	open := s(opsprom.MetricBreakerState, opsprom.LabelService, "shop", opsprom.LabelBreaker, "redis", opsprom.LabelState, opsprom.BreakerOpen)
	closed := s(opsprom.MetricBreakerState, opsprom.LabelService, "shop", opsprom.LabelBreaker, "redis", opsprom.LabelState, opsprom.BreakerClosed)
	toOpen := s(opsprom.MetricBreakerTransitions, opsprom.LabelService, "shop", opsprom.LabelBreaker, "redis", opsprom.LabelFrom, opsprom.BreakerClosed, opsprom.LabelTo, opsprom.BreakerOpen)
	lag := s(opsprom.MetricStreamConsumerLag, opsprom.LabelService, "shop", opsprom.LabelStream, "orders", opsprom.LabelGroup, "billing")
	dead := s(opsprom.MetricStreamDeadLettered, opsprom.LabelService, "shop", opsprom.LabelStream, "orders", opsprom.LabelGroup, "billing")
	dropped := s(opsprom.MetricPubSubDropped, opsprom.LabelService, "shop")
	canceled := s(opsprom.MetricOperations, opsprom.LabelService, "shop", opsprom.LabelNamespace, "kv", opsprom.LabelOperation, "kv.get", opsprom.LabelOutcome, opsprom.OutcomeCanceled)
	timeout := s(opsprom.MetricErrors, opsprom.LabelService, "shop", opsprom.LabelNamespace, "kv", opsprom.LabelOperation, "kv.get", opsprom.LabelCode, string(ops.CodeTimeout))
	timingOut := map[string]string{ok: "0+100x80", canceled: "0+10x80", timeout: "0+10x80"} // canceled by the store's deadline
	callerGaveUp := map[string]string{ok: "0+100x80", canceled: "0+10x80"}                  // canceled by callers: not failures
	failing := map[string]string{ok: "0+100x80", down: "0+10x80"}                           // 9% of operations fail
	healthy := map[string]string{ok: "0+100x80", miss: "0+50x80"}                           // misses are not failures
	slow := map[string]string{count: "0+100x80", bucket: "0+50x80"}                         // half the operations over 25ms
	fast := map[string]string{count: "0+100x80", bucket: "0+100x80"}                        // none
	none := []map[string]string{}
	return []ruleTest{
		{AlertBreakerOpen, map[string]string{open: "0 0 1 0 0 0", closed: "1 1 0 1 1 1"}, "2m", []map[string]string{brk}, ""},
		{AlertBreakerOpen, map[string]string{open: "0 0 1 0 0 0", closed: "1 1 0 1 1 1"}, "1m", none, ""},
		{AlertBreakerOpen, map[string]string{open: "0 0 1 0 0 0", closed: "1 1 0 1 1 1"}, "5m", none, ""},
		// Open and closed again between two scrapes (15s apart): only the transition counter saw it.
		{AlertBreakerOpen, map[string]string{open: "0x32", toOpen: "0x14 1x20"}, "4m", []map[string]string{brk}, "15s"},
		{AlertBreakerOpen, map[string]string{open: "0x32", toOpen: "0x14 1x20"}, "5m", none, "15s"},
		{AlertErrorBudgetFast, failing, "70m", []map[string]string{svc}, ""},
		{AlertErrorBudgetFast, healthy, "70m", none, ""},
		{AlertErrorBudgetFast, timingOut, "70m", []map[string]string{svc}, ""},
		{AlertErrorBudgetFast, callerGaveUp, "70m", none, ""},
		{AlertErrorBudgetSlow, failing, "70m", []map[string]string{svc}, ""},
		{AlertErrorBudgetSlow, healthy, "70m", none, ""},
		{AlertLatencyBudgetFast, slow, "70m", []map[string]string{svc}, ""},
		{AlertLatencyBudgetFast, fast, "70m", none, ""},
		{AlertLatencyBudgetSlow, slow, "70m", []map[string]string{svc}, ""},
		{AlertLatencyBudgetSlow, fast, "70m", none, ""},
		{AlertConsumerLagGrowing, map[string]string{lag: "0+20x40"}, "25m", []map[string]string{grp}, ""},
		{AlertConsumerLagGrowing, map[string]string{lag: "500x40"}, "25m", none, ""}, // high but flat
		{AlertConsumerLagGrowing, map[string]string{lag: "0+20x40"}, "8m", none, ""}, // growing, not for 10m yet
		{AlertDeadLetters, map[string]string{dead: "0 0 0 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1"}, "5m", []map[string]string{grp}, ""},
		{AlertDeadLetters, map[string]string{dead: "0 0 0 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1"}, "18m", none, ""}, // 10m after the last one
		{AlertSubscriberDrops, map[string]string{dropped: "0 0 0 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3"}, "5m", []map[string]string{svc}, ""},
		{AlertSubscriberDrops, map[string]string{dropped: "0x20"}, "5m", none, ""},
	}
}

// render fills a rule annotation's {{ $labels.x }} references.
func render(tmpl string, labels map[string]string) string {
	for k, v := range labels {
		tmpl = strings.ReplaceAll(tmpl, "{{ $labels."+k+" }}", v)
	}
	return tmpl
}

// RuleTestsYAML renders the promtool unit tests of [Rules].
func RuleTestsYAML() ([]byte, error) {
	alerts := map[string]Rule{}
	for _, g := range Rules() {
		for _, r := range g.Rules {
			if r.Alert != "" {
				alerts[r.Alert] = r
			}
		}
	}
	type series struct {
		Series string `yaml:"series"`
		Values string `yaml:"values"`
	}
	type expAlert struct {
		ExpLabels      map[string]string `yaml:"exp_labels"`
		ExpAnnotations map[string]string `yaml:"exp_annotations"`
	}
	type alertTest struct {
		EvalTime  string     `yaml:"eval_time"`
		Alertname string     `yaml:"alertname"`
		ExpAlerts []expAlert `yaml:"exp_alerts"`
	}
	type test struct {
		Name           string      `yaml:"name"`
		Interval       string      `yaml:"interval"`
		InputSeries    []series    `yaml:"input_series"`
		AlertRuleTests []alertTest `yaml:"alert_rule_test"`
	}
	var tests []test
	for _, rt := range ruleTests() {
		r, ok := alerts[rt.alert]
		if !ok {
			return nil, fmt.Errorf("rule test of unknown alert %s", rt.alert)
		}
		at := alertTest{EvalTime: rt.at, Alertname: rt.alert, ExpAlerts: []expAlert{}}
		for _, l := range rt.firing {
			labels := maps.Clone(l)
			maps.Copy(labels, r.Labels)
			ann := map[string]string{}
			for k, v := range r.Annotations {
				ann[k] = render(v, l)
			}
			at.ExpAlerts = append(at.ExpAlerts, expAlert{ExpLabels: labels, ExpAnnotations: ann})
		}
		interval := rt.interval
		if interval == "" {
			interval = "1m"
		}
		t := test{Name: fmt.Sprintf("%s at %s: %d firing", rt.alert, rt.at, len(rt.firing)), Interval: interval,
			AlertRuleTests: []alertTest{at}}
		for _, name := range slices.Sorted(maps.Keys(rt.series)) {
			t.InputSeries = append(t.InputSeries, series{Series: name, Values: rt.series[name]})
		}
		tests = append(tests, t)
	}
	var buf bytes.Buffer
	buf.WriteString("# Generated by dashboards/cmd/generate from dashboards/ruletests.go; DO NOT EDIT.\n")
	buf.WriteString("# Run: promtool test rules dashboards/" + RuleTestsFile + "\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	doc := struct {
		RuleFiles          []string `yaml:"rule_files"`
		EvaluationInterval string   `yaml:"evaluation_interval"`
		Tests              []test   `yaml:"tests"`
	}{[]string{"rules.yml"}, "1m", tests}
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
