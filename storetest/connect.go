package storetest

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
)

// Connect builds b on rdb (a real redis-server, a cluster…) and closes the store at the end of
// the test; a Build error fails the test. The go-redis client stays the caller's. It is the
// real-server counterpart of [New], for integration tests and benchmarks.
func Connect(tb testing.TB, rdb redis.UniversalClient, b *client.Builder) *client.Store {
	tb.Helper()
	st, err := b.WithAdapter(client.Redis(rdb)).Build()
	if err != nil {
		tb.Fatalf("storetest: %v", err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	return st
}
