package dashboards_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

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

// TestReadmeDescribesEveryPanelAndAlert: the README's monitoring section names every panel and
// has a runbook heading for every alert (the rules' runbook annotations link to it).
func TestReadmeDescribesEveryPanelAndAlert(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	for _, d := range dashboards.Dashboards() {
		if !strings.Contains(text, d.Title) {
			t.Errorf("README does not name dashboard %q", d.Title)
		}
		for _, p := range d.Panels {
			if p.Description == "" || len(p.Targets) == 0 {
				t.Errorf("%s / %s: no description or no query", d.Title, p.Title)
			}
			if !strings.Contains(text, "**"+p.Title+"**") {
				t.Errorf("README does not describe panel **%s** of %s", p.Title, d.Title)
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
				t.Errorf("README has no runbook heading #### %s", r.Alert)
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
