package telemetry_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails if a subscription, consumer or SDK goroutine started by a test outlives it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
