package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/igniter-go/store/loadtest/internal/headless"
	"github.com/igniter-go/store/loadtest/internal/report"
)

// screenshotEnv names a path where TestHTMLReportScreenshot writes the screenshot of a default
// run's report (to refresh the one the README shows: docs/loadtest-report.png).
const screenshotEnv = "LOADTEST_SCREENSHOT"

// pageInfo is what the report page drew, read back from the DOM by pageProbe.
type pageInfo struct {
	Banner    string              `json:"banner"`
	BannerTop float64             `json:"bannerTop"`
	Charts    []chartInfo         `json:"charts"`
	Legends   map[string][]string `json:"legends"`
	Rows      []struct {
		Op  string   `json:"op"`
		Lat []string `json:"lat"`
	} `json:"rows"`
}

// chartInfo is one drawn chart: its size, its lines' series names and its tick labels.
type chartInfo struct {
	Name  string   `json:"name"`
	W     float64  `json:"w"`
	H     float64  `json:"h"`
	Lines []string `json:"lines"`
	X     []string `json:"x"`
	Y     []string `json:"y"`
}

const pageProbe = `(() => {
	const charts = [...document.querySelectorAll("svg[data-chart]")].map(svg => {
		const r = svg.getBoundingClientRect(), texts = cls => [...svg.querySelectorAll("text." + cls)].map(t => t.textContent);
		return {name: svg.dataset.chart, w: r.width, h: r.height, lines: [...svg.querySelectorAll("path.line")].map(p => p.dataset.series),
			x: texts("tick-x"), y: texts("tick-y")};
	});
	const legends = {};
	for (const l of document.querySelectorAll("[data-legend]")) legends[l.dataset.legend] = [...l.children].map(c => c.textContent);
	const rows = [...document.querySelectorAll("#summary tr[data-op]")].map(tr => ({op: tr.dataset.op, lat: [...tr.querySelectorAll("td.lat")].map(td => td.textContent)}));
	const b = document.getElementById("banner");
	return {banner: b.textContent, bannerTop: b.getBoundingClientRect().top, charts, legends, rows};
})()`

// chromiumOrSkip returns the Chromium binary, or skips (fails under IGNITER_REQUIRE_CHROMIUM).
func chromiumOrSkip(t *testing.T) string {
	t.Helper()
	bin := headless.Binary()
	if bin == "" {
		if os.Getenv("IGNITER_REQUIRE_CHROMIUM") != "" {
			t.Fatal("chromium is not installed")
		}
		t.Skip("SKIPPING: chromium is not installed (apt-get install -y chromium)")
	}
	return bin
}

// renderReport runs c, writes its -html report and opens it in headless Chromium 1280 px wide.
func renderReport(t *testing.T, bin string, c config) (*report.Report, *headless.Page, pageInfo) {
	t.Helper()
	dir := t.TempDir()
	c.htmlFile = filepath.Join(dir, "report.html")
	r, err := run(context.Background(), c, &bytes.Buffer{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	validReport(t, r)
	if err := writeFiles(c, r); err != nil {
		t.Fatal(err)
	}
	// The page's data is the -json document: it follows the schema too.
	html, err := os.ReadFile(c.htmlFile)
	if err != nil {
		t.Fatal(err)
	}
	_, data, _ := strings.Cut(string(html), `<script id="report-data" type="application/json">`)
	data, _, _ = strings.Cut(data, "</script>")
	validJSON(t, []byte(data))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	url := "file://" + c.htmlFile
	page, err := headless.Load(ctx, bin, filepath.Join(dir, "profile"), url, pageProbe, 1280)
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
	var info pageInfo
	if err := json.Unmarshal(page.Value, &info); err != nil {
		t.Fatalf("%v: %s", err, page.Value)
	}
	return r, page, info
}

// The -html report of a mixed run, opened in headless Chromium: no console message, no request
// but the page itself; the banner first; every chart drawn, with the axis labels a reader sees
// read back and checked (checkPage); the screenshot goes to the test's temp dir.
func TestHTMLReportInHeadlessChromium(t *testing.T) {
	bin := chromiumOrSkip(t)
	c := quick(t, "-scenario", "mixed", "-duration", "4s", "-warmup", "200ms", "-tenants", "2")
	r, page, info := renderReport(t, bin, c)
	checkPage(t, r, info)
	shot := filepath.Join(t.TempDir(), "report.png")
	if err := os.WriteFile(shot, page.Screenshot, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d charts drawn; screenshot %s (%d bytes)", len(info.Charts), shot, len(page.Screenshot))
}

// With LOADTEST_SCREENSHOT=path, the report of a default run (go run ./loadtest, with -html),
// checked as above, is screenshotted to path: docs/loadtest-report.png is made so.
func TestHTMLReportScreenshot(t *testing.T) {
	path := os.Getenv(screenshotEnv)
	if path == "" {
		t.Skip("set " + screenshotEnv + "=docs/loadtest-report.png to refresh the screenshot of a default run")
	}
	bin := chromiumOrSkip(t)
	c, err := parseFlags([]string{"-progress", "off"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	r, page, info := renderReport(t, bin, c)
	checkPage(t, r, info)
	if err := os.WriteFile(path, page.Screenshot, 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkPage checks what the page drew against the report it was made of.
func checkPage(t *testing.T, r *report.Report, info pageInfo) {
	t.Helper()
	if info.Banner != report.Banner(r) || info.BannerTop > 40 {
		t.Errorf("banner %q at %vpx, want %q at the top", info.Banner, info.BannerTop, report.Banner(r))
	}
	if r.Target.Kind == report.TargetMiniredis && !strings.Contains(info.Banner, "not Redis numbers") {
		t.Errorf("the banner of a miniredis run does not say so: %q", info.Banner)
	}
	want := []string{"rate:all"}
	for _, s := range r.Ops {
		want = append(want, "rate:"+s.Op, "latency:"+s.Op, "dist:"+s.Op)
	}
	var got []string
	for _, ch := range info.Charts {
		got = append(got, ch.Name)
		if ch.W <= 0 || ch.H <= 0 || len(ch.Lines) == 0 {
			t.Errorf("chart %s: %vx%v px, lines %v", ch.Name, ch.W, ch.H, ch.Lines)
		}
		for _, p := range labelProblems(ch) {
			t.Errorf("chart %s: %s", ch.Name, p)
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("charts %v, want %v (total throughput; per operation: throughput, latency over time, distribution)", got, want)
	}
	for _, s := range r.Ops {
		if l := info.Legends[s.Op]; !slices.Contains(l, "p50") || !slices.Contains(l, "p99") {
			t.Errorf("%s: legend %v does not tell p50 from p99", s.Op, l)
		}
	}
	// The table's latencies: one format, the text report's (report.Dur), for every cell.
	rows := map[string][]string{}
	for _, row := range info.Rows {
		rows[row.Op] = row.Lat
	}
	for _, s := range append(slices.Clone(r.Ops), r.All) {
		want := []string{report.Dur(s.P50), report.Dur(s.P90), report.Dur(s.P99), report.Dur(s.P999), report.Dur(s.Max)}
		if got, ok := rows[s.Op]; ok && !slices.Equal(got, want) {
			t.Errorf("table row %s: %v, want %v (as the text report prints them)", s.Op, got, want)
		}
	}
	if len(rows) < len(r.Ops) {
		t.Errorf("%d table rows for %d operations", len(rows), len(r.Ops))
	}
}

// distTicks are the labels of a latency distribution's percentile axis.
var distTicks = []string{"0%", "90%", "99%", "99.9%", "99.99%", "99.999%"}

var (
	// latencyRE is report.Dur's format: three significant digits (ns below 1µs; whole seconds
	// from 1000s on).
	latencyRE = regexp.MustCompile(`^(\d{1,3}ns|\d\.\d\d(µs|ms|s)|\d\d\.\d(µs|ms|s)|\d{3}(µs|ms|s)|\d{4,}s)$`)
	// brokenRE catches a number cut short ("99.%", "2.") and a script's failures.
	brokenRE = regexp.MustCompile(`\.(\D|$)|NaN|undefined|Infinity|null`)
)

// labelProblems lists what is wrong with a chart's tick labels: a broken number; on a
// distribution, percentile labels other than distTicks; latency ticks not in report.Dur's
// format or not at round values (1, 2 or 5 × 10^k); throughput and time ticks not starting at
// 0 or not in equal round steps.
func labelProblems(ch chartInfo) []string {
	var out []string
	for _, l := range append(slices.Clone(ch.X), ch.Y...) {
		if brokenRE.MatchString(l) {
			out = append(out, fmt.Sprintf("tick label %q", l))
		}
	}
	kind, _, _ := strings.Cut(ch.Name, ":")
	if kind == "dist" && !slices.Equal(ch.X, distTicks) {
		out = append(out, fmt.Sprintf("percentile ticks %q, want %q", ch.X, distTicks))
	}
	if kind == "dist" || kind == "latency" {
		var prev float64
		for _, l := range ch.Y {
			v, err := parseLatency(l)
			switch {
			case err != nil || !latencyRE.MatchString(l):
				out = append(out, fmt.Sprintf("latency tick %q is not in the report's format", l))
			case !round125(v):
				out = append(out, fmt.Sprintf("latency tick %q is not at a round value", l))
			case v <= prev:
				out = append(out, fmt.Sprintf("latency tick %q does not increase", l))
			}
			prev = v
		}
		if len(ch.Y) < 2 {
			out = append(out, fmt.Sprintf("latency ticks %q: fewer than two", ch.Y))
		}
	}
	if kind == "rate" {
		out = append(out, stepProblems("throughput", ch.Y, func(s string) (float64, error) {
			return strconv.ParseFloat(strings.ReplaceAll(s, ",", ""), 64)
		})...)
	}
	if kind == "rate" || kind == "latency" {
		out = append(out, stepProblems("time", ch.X, func(s string) (float64, error) {
			n, ok := strings.CutSuffix(s, "s")
			if !ok {
				return 0, fmt.Errorf("no unit")
			}
			return strconv.ParseFloat(n, 64)
		})...)
	}
	return out
}

// stepProblems checks that labels parse, start at 0 and go up in equal steps of 1, 2 or 5 × 10^k.
func stepProblems(axis string, labels []string, parse func(string) (float64, error)) []string {
	if len(labels) < 2 {
		return []string{fmt.Sprintf("%s ticks %q: fewer than two", axis, labels)}
	}
	var vs []float64
	for _, l := range labels {
		v, err := parse(l)
		if err != nil {
			return []string{fmt.Sprintf("%s tick %q: %v", axis, l, err)}
		}
		vs = append(vs, v)
	}
	step := vs[1] - vs[0]
	if vs[0] != 0 || !round125(step) {
		return []string{fmt.Sprintf("%s ticks %q do not start at 0 with a round step", axis, labels)}
	}
	for i := 1; i < len(vs); i++ {
		if math.Abs(vs[i]-vs[i-1]-step) > step*1e-6 {
			return []string{fmt.Sprintf("%s ticks %q are not evenly spaced", axis, labels)}
		}
	}
	return nil
}

// round125 reports whether v is 1, 2 or 5 × 10^k.
func round125(v float64) bool {
	if v <= 0 {
		return false
	}
	m := v / math.Pow(10, math.Floor(math.Log10(v)+1e-9))
	for _, r := range []float64{1, 2, 5} {
		if math.Abs(m-r) < 1e-6 {
			return true
		}
	}
	return false
}

// parseLatency reads a report.Dur label back into nanoseconds.
func parseLatency(s string) (float64, error) {
	d, err := time.ParseDuration(strings.Replace(s, "µs", "us", 1))
	return float64(d), err
}

// The checker catches what the issue reported: "99.%" on a percentile axis, ticks at unround
// values or uneven steps, latencies in another precision.
func TestLabelProblemsCatchesBrokenAxes(t *testing.T) {
	good := []chartInfo{
		{Name: "dist:kv.get", X: distTicks, Y: []string{"10.0µs", "100µs", "1.00ms", "10.0ms"}},
		{Name: "latency:kv.get", X: []string{"0s", "2s", "4s", "6s", "8s"}, Y: []string{"200µs", "500µs", "1.00ms", "2.00ms"}},
		{Name: "rate:kv.get", X: []string{"0s", "0.2s", "0.4s"}, Y: []string{"0", "20,000", "40,000"}},
	}
	for _, ch := range good {
		if p := labelProblems(ch); len(p) > 0 {
			t.Errorf("%s: %v", ch.Name, p)
		}
	}
	for _, ch := range []chartInfo{
		{Name: "dist:kv.get", X: []string{"0%", "90%", "99.%", "99.9%", "99.99%", "99.999%"}, Y: []string{"100µs", "1.00ms"}},
		{Name: "dist:kv.get", X: distTicks, Y: []string{"100.0µs", "1.00ms"}}, // another precision
		{Name: "dist:kv.get", X: distTicks, Y: []string{"100µs", "300µs"}},    // not round
		{Name: "latency:kv.get", X: []string{"0s", "1.6s", "3.2s"}, Y: []string{"100µs", "1.00ms"}},
		{Name: "rate:kv.get", X: []string{"0s", "1s"}, Y: []string{"0", "1,862", "3,724"}},
		{Name: "rate:kv.get", X: []string{"0s", "1s"}, Y: []string{"0", "NaN"}},
		{Name: "rate:kv.get", X: []string{"0s", "1s", "3s"}, Y: []string{"0", "5"}},
	} {
		if len(labelProblems(ch)) == 0 {
			t.Errorf("%s x %q y %q: no problem found", ch.Name, ch.X, ch.Y)
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
