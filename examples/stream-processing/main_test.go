package main

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/igniter-go/store/examples/internal/harness"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const want = `handled 3, dead-lettered 1: "STORE_HANDLER_FAILED: handler failed: moderation: unsupported character" after 3 deliveries
redrive moved 1
redriven message handled 1 time(s); origin id kept: true; history: "STORE_HANDLER_FAILED: handler failed: moderation: unsupported character"
second redrive moved 0; dead letters left: 0
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
