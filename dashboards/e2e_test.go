package dashboards_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/igniter-go/store/dashboards"
)

// TestEndToEndOnARealPrometheus runs the load test's mixed scenario with its metrics served to a
// real Prometheus that scrapes every second and evaluates the rules every second, then a -chaos
// run of the same scenario. It checks through Prometheus's HTTP API that every dashboard panel
// query and every variable query, and every recording rule, returns data over the two runs; that
// IgniterStoreBreakerOpen fired during the chaos run and not during the quiet run. The load test
// alone feeds every panel, the near-cache ones included (its mixed blend reads through a near
// cache on a real Redis), as it does in docker-compose.yml's demo.
func TestEndToEndOnARealPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the end-to-end test runs the load test twice")
	}
	promBin, err := exec.LookPath("prometheus")
	if err != nil {
		skipOrFail(t, "no prometheus binary (apt-get install -y prometheus): %v", err)
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		skipOrFail(t, "no redis-server binary (apt-get install -y redis-server): %v", err)
	}
	bin, help := loadtestBinary(t)
	requireFlags(t, help, "scenario", "start-redis", "metrics-addr", "chaos", "duration")

	dir := t.TempDir()
	metricsAddr := freeAddr(t)
	promAddr := freeAddr(t)
	rules, err := filepath.Abs(dashboards.RulesFile)
	if err != nil {
		t.Fatal(err)
	}
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: [%q]
scrape_configs:
  - job_name: loadtest
    static_configs:
      - targets: [%q]
`, rules, metricsAddr)
	cfgFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgFile, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	prom := exec.Command(promBin, "--config.file="+cfgFile, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+promAddr, "--log.level=warn")
	prom.Stdout, prom.Stderr = testWriter{t, "prometheus"}, testWriter{t, "prometheus"}
	if err := prom.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = prom.Process.Signal(os.Interrupt)
		_ = prom.Wait()
	})
	api := &promAPI{base: "http://" + promAddr, client: &http.Client{Transport: &http.Transport{}, Timeout: 30 * time.Second}}
	t.Cleanup(api.client.CloseIdleConnections)
	api.waitReady(t, 60*time.Second)

	run := func(args ...string) (start, end time.Time) {
		t.Helper()
		args = append([]string{"-scenario", "mixed", "-metrics-addr", metricsAddr, "-duration", "15s"}, args...)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		start = time.Now()
		out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
		end = time.Now()
		t.Logf("loadtest %s (%s):\n%s", strings.Join(args, " "), end.Sub(start).Round(time.Second), out)
		if err != nil {
			t.Fatalf("loadtest %v: %v", args, err)
		}
		return start, end
	}
	quietStart, quietEnd := run("-start-redis")
	chaosStart, chaosEnd := run("-start-redis", "-chaos")
	// One more scrape and rule evaluation after the last sample.
	end := chaosEnd.Add(3 * time.Second)
	api.waitUntil(t, end)

	// IgniterStoreBreakerOpen fired during the chaos run, not during the quiet one.
	alerts := `ALERTS{alertname="` + dashboards.AlertBreakerOpen + `", alertstate="firing"}`
	during := api.rangeQuery(t, alerts, chaosStart, end)
	if len(during) == 0 {
		t.Errorf("%s never fired during the -chaos run", dashboards.AlertBreakerOpen)
	} else {
		first := firstSample(during)
		t.Logf("%s fired %s into the chaos run: %v", dashboards.AlertBreakerOpen, first.Sub(chaosStart).Round(time.Second), labelsOf(during))
	}
	if quiet := api.rangeQuery(t, alerts, quietStart, quietEnd); len(quiet) > 0 {
		t.Errorf("%s fired during the quiet run: %v", dashboards.AlertBreakerOpen, labelsOf(quiet))
	}

	// Every panel and variable query returns data, the variables substituted as Grafana does
	// with every service selected.
	services := api.labelValues(t, "service")
	if len(services) == 0 {
		t.Fatal("no service label values: nothing was scraped")
	}
	queries := committedQueries(t)
	for _, q := range queries {
		expr := substitute(q.expr, strings.Join(services, "|"), ".*", "5s")
		if res := api.rangeQuery(t, expr, quietStart, end); len(res) == 0 {
			t.Errorf("%s / %s returns no data:\n\t%s", q.dashboard, q.panel, expr)
		} else if !hasNumber(res) {
			t.Errorf("%s / %s returns only NaN:\n\t%s", q.dashboard, q.panel, expr)
		}
	}
	records := 0
	for _, g := range dashboards.Rules() {
		for _, r := range g.Rules {
			if r.Record == "" {
				continue
			}
			records++
			if res := api.rangeQuery(t, r.Record, quietStart, end); len(res) == 0 {
				t.Errorf("recording rule %s has no data", r.Record)
			} else if !hasNumber(res) {
				t.Errorf("recording rule %s is only NaN", r.Record)
			}
		}
	}
	t.Logf("%d panel and variable queries and %d recording rules checked over %s of scraped runs (services %v)",
		len(queries), records, end.Sub(quietStart).Round(time.Second), services)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// testWriter sends a child's output to the test log.
type testWriter struct {
	t      *testing.T
	prefix string
}

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s: %s", w.prefix, strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// promAPI is the part of Prometheus's HTTP API the test uses.
type promAPI struct {
	base   string
	client *http.Client
}

type series struct {
	Metric map[string]string `json:"metric"`
	Values [][2]any          `json:"values"`
}

func (a *promAPI) get(path string, params url.Values, v any) error {
	resp, err := a.client.Get(a.base + path + "?" + params.Encode())
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s: %s", path, resp.Status, body)
	}
	return json.Unmarshal(body, v)
}

// waitReady polls /-/ready until Prometheus answers 200.
func (a *promAPI) waitReady(t *testing.T, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for range tick.C {
		resp, err := a.client.Get(a.base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready after %s: %v", limit, err)
		}
	}
}

// waitUntil polls Prometheus's clock (the time() of an instant query) until it passes at.
func (a *promAPI) waitUntil(t *testing.T, at time.Time) {
	t.Helper()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for range tick.C {
		var r struct {
			Data struct {
				Result [2]any `json:"result"`
			} `json:"data"`
		}
		if err := a.get("/api/v1/query", url.Values{"query": {"time()"}}, &r); err != nil {
			t.Fatal(err)
		}
		if ts, ok := r.Data.Result[0].(float64); ok && ts >= float64(at.UnixMilli())/1000 {
			return
		}
	}
}

func (a *promAPI) rangeQuery(t *testing.T, expr string, start, end time.Time) []series {
	t.Helper()
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Result []series `json:"result"`
		} `json:"data"`
	}
	params := url.Values{"query": {expr}, "start": {unix(start)}, "end": {unix(end)}, "step": {"1"}}
	if err := a.get("/api/v1/query_range", params, &r); err != nil {
		t.Errorf("query_range %s: %v", expr, err)
		return nil
	}
	return r.Data.Result
}

func (a *promAPI) labelValues(t *testing.T, label string) []string {
	t.Helper()
	var r struct {
		Data []string `json:"data"`
	}
	if err := a.get("/api/v1/label/"+label+"/values", url.Values{}, &r); err != nil {
		t.Fatal(err)
	}
	return r.Data
}

func unix(t time.Time) string { return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64) }

func firstSample(ss []series) time.Time {
	var first float64
	for _, s := range ss {
		for _, v := range s.Values {
			if ts, ok := v[0].(float64); ok && (first == 0 || ts < first) {
				first = ts
			}
		}
	}
	return time.UnixMilli(int64(first * 1000))
}

// hasNumber reports whether a sample of ss is a number (Prometheus sends NaN for 0/0 and for
// quantiles of empty histograms).
func hasNumber(ss []series) bool {
	for _, s := range ss {
		for _, v := range s.Values {
			if str, ok := v[1].(string); ok && str != "NaN" {
				return true
			}
		}
	}
	return false
}

func labelsOf(ss []series) []map[string]string {
	out := make([]map[string]string, len(ss))
	for i, s := range ss {
		out[i] = s.Metric
	}
	return out
}
