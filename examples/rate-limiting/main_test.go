package main

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/igniter-go/store/examples/internal/harness"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const want = `acme request 1: allowed, 4 left
acme request 2: allowed, 3 left
acme request 3: allowed, 2 left
acme request 4: allowed, 1 left
acme request 5: allowed, 0 left
acme request 6: 429 Too Many Requests, Retry-After: 12
acme request 7: 429 Too Many Requests, Retry-After: 12
globex request 1: allowed, 4 left
globex request 2: allowed, 3 left
5 webhook calls at 20/s took at least 200ms: true
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
