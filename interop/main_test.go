package interop_test

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

// figures collects each test's figures for the one summary line TestMain prints.
var figures struct {
	mu    sync.Mutex
	lines []string
}

// report logs a test's figures and keeps them for the summary line.
func report(t *testing.T, format string, args ...any) {
	t.Helper()
	s := fmt.Sprintf(format, args...)
	t.Log(s)
	figures.mu.Lock()
	figures.lines = append(figures.lines, t.Name()+": "+s)
	figures.mu.Unlock()
}

// TestMain runs the tests, prints their figures on one line (shown by go test -v, which is how
// .ci/run runs this package), and fails the package if a goroutine outlives the tests: the Go
// stores, consume loops and subscriptions must all end at Close.
func TestMain(m *testing.M) {
	code := m.Run()
	figures.mu.Lock()
	if len(figures.lines) > 0 {
		line := fmt.Sprintf("interop figures (%s%s): %s\n", nodeVersions.s, raceNote, strings.Join(figures.lines, " | "))
		fmt.Print(line)
		// go test shows a passing package's output only with -v; CI (.ci/run) names a file
		// here and prints it after the run, so the figures reach its log without a second run.
		if path := os.Getenv("IGNITER_FIGURES_FILE"); path != "" {
			if f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
				_, _ = f.WriteString(line)
				_ = f.Close()
			}
		}
	}
	figures.mu.Unlock()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}
