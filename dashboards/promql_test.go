package dashboards_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/igniter-go/store/dashboards"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/telemetry/opsprom"
)

// panelQuery is one query of a committed dashboard JSON.
type panelQuery struct {
	dashboard, panel, expr string
}

// committedQueries reads every panel query of the committed dashboard JSON (what Grafana
// loads, not the Go values it was generated from) and its variable queries.
func committedQueries(t *testing.T) []panelQuery {
	t.Helper()
	var out []panelQuery
	for _, d := range dashboards.Dashboards() {
		raw, err := os.ReadFile(filepath.Join(dashboards.DashboardDir, d.File))
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Panels []struct {
				Title   string `json:"title"`
				Targets []struct {
					Expr string `json:"expr"`
				} `json:"targets"`
			} `json:"panels"`
			Templating struct {
				List []struct {
					Name  string `json:"name"`
					Type  string `json:"type"`
					Query any    `json:"query"`
				} `json:"list"`
			} `json:"templating"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s: %v", d.File, err)
		}
		if len(doc.Panels) != len(d.Panels) {
			t.Fatalf("%s: %d panels, the code has %d", d.File, len(doc.Panels), len(d.Panels))
		}
		var vars []string
		for _, v := range doc.Templating.List {
			vars = append(vars, v.Name)
			if q, ok := v.Query.(string); ok && v.Type == "query" {
				// label_values(selector, label): check the selector and the label.
				inner := strings.TrimSuffix(strings.TrimPrefix(q, "label_values("), ")")
				i := strings.LastIndex(inner, ",")
				sel, label := inner[:i], strings.TrimSpace(inner[i+1:])
				out = append(out, panelQuery{d.File, "variable " + v.Name, "count by (" + label + ") (" + sel + ")"})
			}
		}
		if want := []string{"datasource", "service", "namespace"}; !slices.Equal(vars, want) {
			t.Errorf("%s: variables %v, want %v", d.File, vars, want)
		}
		for _, p := range doc.Panels {
			if len(p.Targets) == 0 {
				t.Errorf("%s / %s: no query", d.File, p.Title)
			}
			for _, tg := range p.Targets {
				out = append(out, panelQuery{d.File, p.Title, tg.Expr})
			}
		}
	}
	return out
}

// substitute replaces Grafana's variables the way Grafana does before it sends a query.
func substitute(expr, service, namespace, rateInterval string) string {
	return strings.NewReplacer("$__rate_interval", rateInterval, "$service", service, "$namespace", namespace).Replace(expr)
}

// exported is what the telemetry packages export: each series name with its label names, and
// the values of the labels whose values are a closed set.
type exported struct {
	labels map[string][]string
	values map[string][]string
}

func telemetryExports() exported {
	e := exported{labels: opsprom.Labels(), values: map[string][]string{}}
	// The classic series of each histogram.
	for base, series := range map[string][3]string{
		opsprom.MetricOperationDuration: {opsprom.MetricOperationDurationBucket, opsprom.MetricOperationDurationCount, opsprom.MetricOperationDurationSum},
		opsprom.MetricHandlerDuration:   {opsprom.MetricHandlerDurationBucket, opsprom.MetricHandlerDurationCount, opsprom.MetricHandlerDurationSum},
	} {
		l := e.labels[base]
		e.labels[series[0]] = append(slices.Clone(l), opsprom.LabelLE)
		e.labels[series[1]], e.labels[series[2]] = l, l
	}
	e.values[opsprom.LabelOutcome] = opsprom.Outcomes()
	states := []string{opsprom.BreakerClosed, opsprom.BreakerHalfOpen, opsprom.BreakerOpen}
	e.values[opsprom.LabelState], e.values[opsprom.LabelFrom], e.values[opsprom.LabelTo] = states, states, states
	e.values[opsprom.LabelSource] = []string{opsprom.SourceEvents, opsprom.SourceStream}
	for _, k := range ops.Kinds() {
		e.values[opsprom.LabelOperation] = append(e.values[opsprom.LabelOperation], k.Operation())
		if !slices.Contains(e.values[opsprom.LabelNamespace], k.Group()) {
			e.values[opsprom.LabelNamespace] = append(e.values[opsprom.LabelNamespace], k.Group())
		}
	}
	for _, b := range opsprom.DefaultBuckets {
		e.values[opsprom.LabelLE] = append(e.values[opsprom.LabelLE], formatLE(b))
	}
	return e
}

// check parses expr and reports every metric that the telemetry packages do not export, every
// label a selector uses that its metric lacks, every grouping label no selected metric has, and
// every fixed label value that is not one of the exported values. records are recording rules
// the expression may read, with the labels they keep.
func (e exported) check(expr string, records map[string][]string) []string {
	p := parser.NewParser(parser.Options{})
	ast, err := p.ParseExpr(expr)
	if err != nil {
		return []string{"parse: " + err.Error()}
	}
	var problems []string
	union := map[string]bool{}
	var grouping []string
	parser.Inspect(ast, func(n parser.Node, _ []parser.Node) error {
		switch n := n.(type) {
		case *parser.VectorSelector:
			name := n.Name
			have, ok := e.labels[name]
			if !ok {
				have, ok = records[name]
			}
			if !ok {
				problems = append(problems, "metric "+name+" is not exported by the telemetry packages")
				return nil
			}
			for _, l := range have {
				union[l] = true
			}
			for _, m := range n.LabelMatchers {
				if m.Name == labels.MetricName {
					continue
				}
				if !slices.Contains(have, m.Name) {
					problems = append(problems, name+" has no label "+m.Name)
					continue
				}
				problems = append(problems, e.checkValue(name, m)...)
			}
		case *parser.AggregateExpr:
			grouping = append(grouping, n.Grouping...)
		case *parser.BinaryExpr:
			if n.VectorMatching != nil {
				grouping = append(grouping, n.VectorMatching.MatchingLabels...)
				grouping = append(grouping, n.VectorMatching.Include...)
			}
		case *parser.Call:
			if n.Func.Name == "label_replace" {
				// label_replace(v, dst, replacement, src, regex): dst and src are label names.
				for _, i := range []int{1, 3} {
					if s, ok := n.Args[i].(*parser.StringLiteral); ok {
						grouping = append(grouping, s.Val)
					}
				}
			}
		}
		return nil
	})
	for _, l := range grouping {
		if !union[l] {
			problems = append(problems, "groups or matches by "+l+", which no metric of the query has")
		}
	}
	return problems
}

// checkValue reports a matcher on a closed-set label whose value (or regex alternative) is
// not one of the exported values. Variables ($service…) were substituted by then.
func (e exported) checkValue(metric string, m *labels.Matcher) []string {
	allowed, closed := e.values[m.Name]
	if !closed || m.Value == ".*" {
		return nil
	}
	values := []string{m.Value}
	if m.Type == labels.MatchRegexp || m.Type == labels.MatchNotRegexp {
		values = strings.Split(m.Value, "|")
	}
	var problems []string
	for _, v := range values {
		if !slices.Contains(allowed, v) {
			problems = append(problems, metric+": "+m.Name+" value "+v+" is never exported")
		}
	}
	return problems
}

// recordingRules returns the recording rules' names with the labels each keeps (the outermost
// aggregation's by-clause, or every label of the metrics it reads).
func recordingRules(e exported) map[string][]string {
	records := map[string][]string{}
	p := parser.NewParser(parser.Options{})
	for _, g := range dashboards.Rules() {
		for _, r := range g.Rules {
			if r.Record == "" {
				continue
			}
			ast, err := p.ParseExpr(r.Expr)
			if err != nil {
				continue // reported by the test
			}
			var keep []string
			parser.Inspect(ast, func(n parser.Node, _ []parser.Node) error {
				if a, ok := n.(*parser.AggregateExpr); ok && keep == nil {
					keep = slices.DeleteFunc(slices.Clone(a.Grouping), func(l string) bool { return l == opsprom.LabelLE })
				}
				return nil
			})
			records[r.Record] = keep
		}
	}
	return records
}

// TestPanelQueriesUseOnlyExportedNames parses every panel query of the committed dashboards
// (variables substituted as Grafana does) and every rule with the Prometheus parser, and checks
// each metric is one the telemetry packages export, used only with the labels they export.
func TestPanelQueriesUseOnlyExportedNames(t *testing.T) {
	e := telemetryExports()
	queries := committedQueries(t)
	if len(queries) < 30 {
		t.Fatalf("only %d queries found", len(queries))
	}
	for _, q := range queries {
		for _, vars := range [][3]string{{".*", ".*", "1m"}, {"api", "kv|counter", "5m"}} {
			expr := substitute(q.expr, vars[0], vars[1], vars[2])
			if strings.Contains(expr, "$") {
				t.Errorf("%s / %s: a variable is left after substitution: %s", q.dashboard, q.panel, expr)
			}
			for _, p := range e.check(expr, nil) {
				t.Errorf("%s / %s: %s\n\t%s", q.dashboard, q.panel, p, expr)
			}
		}
	}
	records := recordingRules(e)
	for _, g := range dashboards.Rules() {
		for _, r := range g.Rules {
			for _, p := range e.check(r.Expr, records) {
				t.Errorf("rule %s%s: %s\n\t%s", r.Record, r.Alert, p, r.Expr)
			}
		}
	}
}

// TestTheCheckCatchesMistakes: the checker rejects a misspelt metric, a label the metric does
// not have, a grouping label no metric has and a label value that is never exported.
func TestTheCheckCatchesMistakes(t *testing.T) {
	e := telemetryExports()
	for _, bad := range []string{
		`rate(igniter_store_operation_total[1m])`,
		`rate(igniter_store_operations_total{code="STORE_X"}[1m])`,
		`sum by (scope_id) (rate(igniter_store_operations_total[1m]))`,
		`rate(igniter_store_operations_total{outcome="failed"}[1m])`,
		`igniter_store_breaker_state{state=~"open|opened"}`,
		`rate(igniter_store_operations_total[1m]`,
	} {
		if len(e.check(bad, nil)) == 0 {
			t.Errorf("%s passes the check", bad)
		}
	}
	if p := e.check(`sum by (le) (rate(igniter_store_operation_duration_seconds_bucket{le="0.025"}[1m]))`, nil); len(p) > 0 {
		t.Errorf("a classic bucket query fails: %v", p)
	}
}
