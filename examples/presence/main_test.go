package main

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/igniter-go/store/examples/internal/harness"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const want = `acme online: alice@web bob@ios; globex online: 0
after 900ms without bob's heartbeat: alice@web
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
