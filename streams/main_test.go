package streams_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: consume loops and their
// connections must all end at Close.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
