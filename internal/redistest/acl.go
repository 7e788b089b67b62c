package redistest

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
)

// AddUser creates (or resets) the ACL user name with password and rules (as ACL SETUSER takes
// them: "~key:*", "&channel:*", "+get"…), and returns a client logged in as that user, with
// go-redis's retries off and ctx deadlines honoured (ContextTimeoutEnabled) as the store
// requires, closed at cleanup.
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
	c := redis.NewClient(&redis.Options{Addr: s.Addr, Username: name, Password: password, MaxRetries: -1, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// AddUser creates (or resets) the ACL user name on every node of the cluster (Redis does not
// propagate ACL users between cluster nodes), and returns a cluster client logged in as that
// user, with go-redis's retries off and ctx deadlines honoured, closed at cleanup.
func (c *Cluster) AddUser(t testing.TB, name, password string, rules ...string) *redis.ClusterClient {
	t.Helper()
	for _, n := range c.Nodes {
		_ = n.AddUser(t, name, password, rules...)
	}
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs, Username: name, Password: password,
		MaxRetries: -1, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}
