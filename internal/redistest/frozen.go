package redistest

import "testing"

// StartFreezable is Start for a test that freezes the server (Freeze): such a test waits out
// deadlines on a server that answers nothing, so it is skipped under -short.
func StartFreezable(t testing.TB, extra ...string) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("freezes a redis-server")
	}
	return Start(t, extra...)
}
