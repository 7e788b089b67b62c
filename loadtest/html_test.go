package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/igniter-go/store/loadtest/internal/headless"
	"github.com/igniter-go/store/loadtest/internal/report"
)

// screenshotEnv names a path where TestHTMLReportInHeadlessChromium also writes its screenshot
// (to refresh the one the README shows: docs/loadtest-report.png).
const screenshotEnv = "LOADTEST_SCREENSHOT"

// The -html report of a mixed run, opened in headless Chromium: no console error or warning,
// no request but the page itself, every chart drawn with a non-zero size and at least one
// line; the screenshot goes to the test's temp dir.
func TestHTMLReportInHeadlessChromium(t *testing.T) {
	bin := headless.Binary()
	if bin == "" {
		if os.Getenv("IGNITER_REQUIRE_CHROMIUM") != "" {
			t.Fatal("chromium is not installed")
		}
		t.Skip("SKIPPING: chromium is not installed (apt-get install -y chromium)")
	}
	dir := t.TempDir()
	htmlFile := filepath.Join(dir, "report.html")
	c := quick(t, "-scenario", "mixed", "-duration", "4s", "-warmup", "200ms", "-tenants", "2", "-html", htmlFile)
	r, err := run(context.Background(), c, &bytes.Buffer{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeFiles(c, r); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	url := "file://" + htmlFile
	page, err := headless.Load(ctx, bin, filepath.Join(dir, "profile"), url, `(() => {
		const charts = [...document.querySelectorAll("[data-chart]")];
		return charts.map(c => {
			const svg = c.querySelector("svg"), r = svg.getBoundingClientRect();
			return {name: c.dataset.chart, w: r.width, h: r.height, lines: svg.querySelectorAll("path").length};
		});
	})()`, 1280)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Console) > 0 {
		t.Errorf("console messages:\n%s", strings.Join(page.Console, "\n"))
	}
	for _, u := range page.Requests {
		if u != url {
			t.Errorf("the page requested %s", u)
		}
	}
	var charts []struct {
		Name  string  `json:"name"`
		W     float64 `json:"w"`
		H     float64 `json:"h"`
		Lines int     `json:"lines"`
	}
	if err := json.Unmarshal(page.Value, &charts); err != nil {
		t.Fatalf("%v: %s", err, page.Value)
	}
	if want := 2 + len(r.Ops); len(charts) != want {
		t.Errorf("%d charts, want %d (throughput, latency, one distribution per op)", len(charts), want)
	}
	for _, ch := range charts {
		if ch.W <= 0 || ch.H <= 0 || ch.Lines == 0 {
			t.Errorf("chart %s: %vx%v px, %d lines", ch.Name, ch.W, ch.H, ch.Lines)
		}
	}
	shot := filepath.Join(dir, "report.png")
	if err := os.WriteFile(shot, page.Screenshot, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d charts drawn; screenshot %s (%d bytes)", len(charts), shot, len(page.Screenshot))
	if p := os.Getenv(screenshotEnv); p != "" {
		if err := os.WriteFile(p, page.Screenshot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// The page is self-contained: no external reference, and a policy that forbids fetching.
func TestHTMLReportIsSelfContained(t *testing.T) {
	var b bytes.Buffer
	r := &report.Report{Scenario: "kv", Ops: nil}
	if err := report.HTML(&b, r); err != nil {
		t.Fatal(err)
	}
	// The SVG namespace is a name, not a fetch.
	page := strings.ReplaceAll(b.String(), `"http://www.w3.org/2000/svg"`, "")
	for _, bad := range []string{"http://", "https://", " src=", "<link"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page holds %q", bad)
		}
	}
	if !strings.Contains(page, `default-src 'none'`) {
		t.Error("no Content-Security-Policy forbidding fetches")
	}
}
