package main

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/igniter-go/store/examples/internal/harness"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const want = `received order:placed: order o_1, total 42.00, store s_1
negative total refused: STORE_SCHEMA_VALIDATION_FAILED
handler failure reported: STORE_HANDLER_FAILED
delivery goes on: received o_3
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
