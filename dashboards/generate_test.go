package dashboards_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	sdkdashboard "github.com/grafana/grafana-foundation-sdk/go/dashboard"
	sdkprometheus "github.com/grafana/grafana-foundation-sdk/go/prometheus"

	"github.com/igniter-go/store/dashboards"
)

// TestCommittedFilesAreGenerated regenerates the dashboards, the rules and their unit tests and
// fails if a committed file differs or a stale generated file remains.
func TestCommittedFilesAreGenerated(t *testing.T) {
	files, err := dashboards.Files()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(name)
		if err != nil {
			t.Errorf("%s: %v (run: cd dashboards && go generate ./...)", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what the code generates (run: cd dashboards && go generate ./...)", name)
		}
	}
	committed, err := filepath.Glob(filepath.Join(dashboards.DashboardDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range committed {
		if _, ok := files[name]; !ok {
			t.Errorf("%s is no longer generated: delete it", name)
		}
	}
	if len(committed) != len(dashboards.Dashboards()) {
		t.Errorf("%d dashboard files, %d dashboards", len(committed), len(dashboards.Dashboards()))
	}
}

// TestReadmeDescribesEveryPanelAndAlert: the operations page (docs/operations.md) names every
// panel and has a runbook heading for every alert (the rules' runbook annotations link to it).
func TestReadmeDescribesEveryPanelAndAlert(t *testing.T) {
	readme, err := os.ReadFile(dashboards.ReadmeFile)
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	for _, d := range dashboards.Dashboards() {
		if !strings.Contains(text, d.Title) {
			t.Errorf("%s does not name dashboard %q", dashboards.ReadmeFile, d.Title)
		}
		for _, p := range d.Panels {
			if p.Description == "" || len(p.Targets) == 0 {
				t.Errorf("%s / %s: no description or no query", d.Title, p.Title)
			}
			if !strings.Contains(text, "**"+p.Title+"**") {
				t.Errorf("%s does not describe panel **%s** of %s", dashboards.ReadmeFile, p.Title, d.Title)
			}
		}
	}
	var alerts []string
	for _, g := range dashboards.Rules() {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			alerts = append(alerts, r.Alert)
			if !strings.Contains(text, "\n#### "+r.Alert+"\n") {
				t.Errorf("%s has no runbook heading #### %s", dashboards.ReadmeFile, r.Alert)
			}
			for _, k := range []string{"summary", "description", "runbook"} {
				if r.Annotations[k] == "" {
					t.Errorf("%s has no %s", r.Alert, k)
				}
			}
		}
	}
	want := []string{dashboards.AlertBreakerOpen, dashboards.AlertErrorBudgetFast, dashboards.AlertErrorBudgetSlow,
		dashboards.AlertLatencyBudgetFast, dashboards.AlertLatencyBudgetSlow, dashboards.AlertConsumerLagGrowing,
		dashboards.AlertDeadLetters, dashboards.AlertSubscriberDrops}
	if !slices.Equal(slices.Sorted(slices.Values(alerts)), slices.Sorted(slices.Values(want))) {
		t.Errorf("alerts %v, want %v", alerts, want)
	}
}

// TestDashboardsRoundTripThroughTheSDK: the committed JSON unmarshals into the SDK's dashboard
// model (Grafana's schema, with the Prometheus query and time-series panel plugins) and keeps
// its panels and queries.
func TestDashboardsRoundTripThroughTheSDK(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	for _, d := range dashboards.Dashboards() {
		raw, err := os.ReadFile(filepath.Join(dashboards.DashboardDir, d.File))
		if err != nil {
			t.Fatal(err)
		}
		var got sdkdashboard.Dashboard
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatalf("%s: %v", d.File, err)
		}
		if got.Uid == nil || *got.Uid != d.UID || len(got.Panels) != len(d.Panels) {
			t.Fatalf("%s: uid %v, %d panels", d.File, got.Uid, len(got.Panels))
		}
		for i, p := range got.Panels {
			if p.Panel == nil || p.Panel.Type != "timeseries" || len(p.Panel.Targets) != len(d.Panels[i].Targets) {
				t.Errorf("%s panel %d: %+v", d.File, i, p.Panel)
				continue
			}
			for j, tg := range p.Panel.Targets {
				q, ok := tg.(*sdkprometheus.Dataquery)
				if !ok || q.Expr != d.Panels[i].Targets[j].Expr {
					t.Errorf("%s panel %d target %d: %T %+v", d.File, i, j, tg, tg)
				}
			}
		}
	}
}
