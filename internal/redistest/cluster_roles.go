package redistest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// role asks a node for its ROLE: "master", "slave" or "sentinel"; "" when it does not answer.
func role(ctx context.Context, addr string) string {
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	defer rdb.Close()
	v, err := rdb.Do(ctx, "ROLE").Slice()
	if err != nil || len(v) == 0 {
		return ""
	}
	s, _ := v[0].(string)
	return s
}

// Primaries returns the nodes that are primaries now and answer (after a failover, the
// promoted replicas).
func (c *Cluster) Primaries(t testing.TB) []*Server {
	t.Helper()
	var out []*Server
	for _, n := range c.Nodes {
		if n.Alive() && role(context.Background(), n.Addr) == "master" {
			out = append(out, n)
		}
	}
	return out
}

// Alive reports whether the server process is running (it was not killed).
func (s *Server) Alive() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd != nil
}

// waitReplicas polls until n nodes are replicas whose link to their primary is up, or fails
// after 30s: a replica that has not synced cannot take over.
func (c *Cluster) waitReplicas(t testing.TB, n int) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		up := 0
		for _, addr := range c.Addrs {
			if replicaUp(ctx, addr) {
				up++
			}
		}
		if up >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redistest: %d of %d replicas in sync after 30s", up, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// replicaUp reports whether addr is a replica whose link to its primary is up.
func replicaUp(ctx context.Context, addr string) bool {
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	defer rdb.Close()
	info, err := rdb.Info(ctx, "replication").Result()
	return err == nil && strings.Contains(info, "role:slave") && strings.Contains(info, "master_link_status:up")
}
