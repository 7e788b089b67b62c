package headless_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/igniter-go/store/loadtest/internal/headless"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// requireEnv makes a missing Chromium a failure instead of a skip (CI sets it where
// .ci/run installed one).
const requireEnv = "IGNITER_REQUIRE_CHROMIUM"

func chromium(t *testing.T) string {
	t.Helper()
	bin := headless.Binary()
	if bin == "" {
		if os.Getenv(requireEnv) != "" {
			t.Fatal("chromium is not installed")
		}
		t.Skip("SKIPPING: chromium is not installed (apt-get install -y chromium)")
	}
	return bin
}

// The checker sees what it must catch: a console error, an exception and a network request.
func TestLoadSeesConsoleErrorsAndRequests(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "bad.html")
	html := `<!DOCTYPE html><html><body><div id="x" style="width:120px;height:30px">x</div><script>
console.error("boom");
fetch("http://127.0.0.1:9/nothing").catch(() => {});
setTimeout(() => { throw new Error("late") }, 0);
</script></body></html>`
	if err := os.WriteFile(page, []byte(html), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	got, err := headless.Load(ctx, bin, filepath.Join(dir, "profile"), "file://"+page,
		`new Promise(r => setTimeout(() => r(document.getElementById("x").getBoundingClientRect().width), 50))`, 400)
	if err != nil {
		t.Fatal(err)
	}
	console := strings.Join(got.Console, "\n")
	if !strings.Contains(console, "error: boom") || !strings.Contains(console, "late") {
		t.Errorf("console: %q", got.Console)
	}
	if !strings.Contains(strings.Join(got.Requests, " "), "127.0.0.1:9/nothing") {
		t.Errorf("requests: %q", got.Requests)
	}
	if string(got.Value) != "120" || len(got.Screenshot) < 100 || string(got.Screenshot[1:4]) != "PNG" {
		t.Errorf("value %s, screenshot %d bytes", got.Value, len(got.Screenshot))
	}
}
