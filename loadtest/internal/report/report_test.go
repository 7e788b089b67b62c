package report_test

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/igniter-go/store/loadtest/internal/hist"
	"github.com/igniter-go/store/loadtest/internal/report"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func sample() *report.Report {
	set := hist.NewSet(1)
	for i := 1; i <= 100; i++ {
		set.Record(0, "kv.get", time.Duration(i)*10*time.Microsecond)
	}
	set.Error(0, "kv.get", "STORE_CIRCUIT_OPEN")
	set.Tick(time.Second)
	ops, all := set.Summaries(time.Second)
	return &report.Report{Scenario: "kv", Loop: "closed loop, 1 workers", Elapsed: time.Second, Ops: ops, All: all,
		Series: set.Series(), CPUPerOp: 12 * time.Microsecond, Partial: true, Reason: "interrupted by a signal",
		Target:  report.Target{Kind: report.TargetRedis, Addresses: []string{"10.0.0.5:6379"}, Version: "7.2.4", Description: "redis 10.0.0.5:6379"},
		Machine: report.Machine{CPUs: 8, GOMAXPROCS: 8, CPUModel: "AMD EPYC 7B13", OS: "linux", Arch: "amd64", GoVersion: "go1.26.8"}}
}

// The text report: its first line is the banner (target, scenario and measured time,
// machine); percentiles are HDR values, printed to their 3 significant digits.
func ExampleText() {
	report.Text(os.Stdout, sample())
	// Output:
	// Redis 7.2.4 at 10.0.0.5:6379 | kv, 1.00s measured (partial) | 8 CPUs (AMD EPYC 7B13), linux/amd64, go1.26.8
	//
	// PARTIAL REPORT: interrupted by a signal after 1s measured
	//
	// op              count      ops/s       p50       p90       p99     p99.9       max   errors
	// kv.get            100        100     500µs     900µs     990µs    1.00ms    1.00ms        1
	//              error STORE_CIRCUIT_OPEN: 1
	// client CPU: 12.0µs per op
}

func TestJSONRoundTrips(t *testing.T) {
	var b bytes.Buffer
	if err := report.JSON(&b, sample()); err != nil {
		t.Fatal(err)
	}
	var back report.Report
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if !back.Partial || back.All.Count != 100 || back.Ops[0].Errors["STORE_CIRCUIT_OPEN"] != 1 || len(back.Series) != 1 {
		t.Errorf("%+v", back)
	}
	if !strings.Contains(b.String(), `"p99Ns": 990`) {
		t.Errorf("durations are not nanoseconds:\n%s", b.String())
	}
}

// The page embeds the report's JSON so that no script or markup can break out of it.
func TestHTMLEscapesTheData(t *testing.T) {
	r := sample()
	r.Description = `</script><script>alert(1)</script>`
	var b bytes.Buffer
	if err := report.HTML(&b, r); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "<script>alert(1)") {
		t.Error("the description broke out of its script element")
	}
}

// One format for every latency: three significant digits, rounded half up, in the largest unit
// that keeps the value at or above 1 (ns below a microsecond).
func TestDurHasThreeSignificantDigits(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0ns"},
		{-5, "0ns"},
		{999, "999ns"},
		{time.Microsecond, "1.00µs"},
		{1125, "1.13µs"}, // an exact half: up, as the page's script rounds
		{9995, "10.0µs"},
		{12_345, "12.3µs"},
		{500_223, "500µs"},
		{999_499, "999µs"},
		{999_500, "1.00ms"},
		{1_500_000, "1.50ms"},
		{99_950_000, "100ms"},
		{999_999_999, "1.00s"},
		{8 * time.Second, "8.00s"},
		{2 * time.Hour, "7200s"},
		{time.Duration(1<<63 - 1), "9223372037s"},
	} {
		if got := report.Dur(c.d); got != c.want {
			t.Errorf("Dur(%d) = %q, want %q", int64(c.d), got, c.want)
		}
	}
}
