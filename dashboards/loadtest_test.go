package dashboards_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// requireTools reports whether missing tools fail the test rather than skip it: CI sets
// IGNITER_REQUIRE_REDIS=1 (or CI) and installs them.
func requireTools() bool { return os.Getenv("IGNITER_REQUIRE_REDIS") == "1" || os.Getenv("CI") != "" }

// skipOrFail skips the test with a loud message, or fails it when tools are required.
func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	if requireTools() {
		t.Fatalf(format, args...)
	}
	t.Skipf("SKIPPING: "+format, args...)
}

// loadtestBinary builds the repository's load test (or takes IGNITER_LOADTEST_BIN) and returns
// its path and its -h output.
func loadtestBinary(t *testing.T) (bin, help string) {
	t.Helper()
	bin = os.Getenv("IGNITER_LOADTEST_BIN")
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "loadtest")
		cmd := exec.Command("go", "build", "-o", bin, "./loadtest")
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build ./loadtest: %v\n%s", err, out)
		}
	}
	out, _ := exec.Command(bin, "-h").CombinedOutput() // -h exits non-zero with the flag package
	return bin, string(out)
}

// requireFlags skips (or fails, when tools are required) unless the load test has every flag.
func requireFlags(t *testing.T, help string, flags ...string) {
	t.Helper()
	for _, f := range flags {
		if !strings.Contains(help, "  -"+f+" ") && !strings.Contains(help, "  -"+f+"\n") {
			skipOrFail(t, "the load test has no -%s flag (the harness of issue 13 is not merged):\n%s", f, help)
		}
	}
}
