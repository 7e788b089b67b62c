package redistest

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
)

// AddUser creates (or resets) the ACL user name with password and rules (as ACL SETUSER takes
// them: "~key:*", "&channel:*", "+get"…), and returns a client logged in as that user, with
// go-redis's retries off, closed at cleanup.
func (s *Server) AddUser(t testing.TB, name, password string, rules ...string) *redis.Client {
	t.Helper()
	admin := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
	defer admin.Close()
	args := []any{"ACL", "SETUSER", name, "reset", "on", ">" + password}
	for _, r := range rules {
		args = append(args, r)
	}
	if err := admin.Do(context.Background(), args...).Err(); err != nil {
		t.Fatalf("redistest: ACL SETUSER %s: %v", name, err)
	}
	c := redis.NewClient(&redis.Options{Addr: s.Addr, Username: name, Password: password, MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	return c
}
