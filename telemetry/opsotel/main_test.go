package opsotel_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails if an SDK provider of a test or benchmark outlives it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
