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
		Series: set.Series(), CPUPerOp: 12 * time.Microsecond, Partial: true, Reason: "interrupted by a signal"}
}

// The text report; percentiles are HDR values (3 significant digits: 500 µs reads 500.2 µs).
func ExampleText() {
	report.Text(os.Stdout, sample())
	// Output:
	// PARTIAL REPORT: interrupted by a signal after 1s measured
	//
	// op              count      ops/s       p50       p90       p99     p99.9       max   errors
	// kv.get            100        100   500.2µs   900.1µs   990.2µs    1.00ms    1.00ms        1
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
	if !strings.Contains(b.String(), `"p99": 990`) {
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
