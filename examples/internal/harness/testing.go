package harness

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/igniter-go/store/internal/redistest"
)

// Run runs p on an embedded miniredis, as `go run` does, and returns its output; an error
// fails the test.
func Run(t testing.TB, p Program) string {
	t.Helper()
	return runAt(t, p, "")
}

// RunRedis runs p on a redis-server the test starts (as `go run … -redis ADDR` would), and
// returns its output. It skips where redis-server is missing, unless IGNITER_REQUIRE_REDIS is
// set.
func RunRedis(t testing.TB, p Program) string {
	t.Helper()
	srv := redistest.Start(t)
	return runAt(t, p, srv.Addr)
}

func runAt(t testing.TB, p Program, addr string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // only a hang reaches it
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, p, addr, &out); err != nil {
		t.Fatalf("example failed: %v\noutput:\n%s", err, out.String())
	}
	return out.String()
}
