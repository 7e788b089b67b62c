package main

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/igniter-go/store/examples/internal/harness"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const want = `host-a leads the cleanup job
host-a: cleanup written
host-a crashed without resigning
another host took over within the lease TTL: true (its fence is larger than host-a's: true)
host-a wakes up and writes with its old fence -> rejected: stale fence, a newer leader has written
stale writes accepted: 0, rejected: 1
`

func TestExample(t *testing.T) {
	if got := harness.Run(t, run); got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
}

func TestExampleOnRedis(t *testing.T) {
	if got := harness.RunRedis(t, run); got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
}
