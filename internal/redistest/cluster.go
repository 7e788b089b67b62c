package redistest

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster is a real Redis Cluster owned by one test: masters only, no replicas, every node on
// free loopback ports, persistence off, all killed at the test's cleanup.
type Cluster struct {
	// Addrs are the masters' host:port addresses.
	Addrs []string
	// Nodes are the servers, in the order of Addrs.
	Nodes []*Server
}

// CLIBinary returns the path of redis-cli, or "" when none is installed.
func CLIBinary() string {
	p, err := exec.LookPath("redis-cli")
	if err != nil {
		return ""
	}
	return p
}

// StartCluster starts masters redis-server nodes in cluster mode (3 when masters < 3, the least
// Redis accepts), joins them with `redis-cli --cluster create … --cluster-replicas 0`, and waits
// until every node reports cluster_state:ok. It skips (or fails, when [RequireEnv] is set) as
// [Start] does when redis-server or redis-cli is missing.
func StartCluster(t testing.TB, masters int) *Cluster {
	t.Helper()
	masters = max(masters, 3)
	bin, cli := Binary(), CLIBinary()
	if bin == "" || cli == "" {
		if os.Getenv(RequireEnv) != "" {
			t.Fatalf("redis-server or redis-cli is not installed and %s is set: install them (apt-get install -y redis-server redis-tools)", RequireEnv)
		}
		t.Skip("SKIPPING: redis-server and redis-cli are needed for Redis Cluster tests (apt-get install -y redis-server redis-tools)")
	}
	c := &Cluster{}
	used := map[int]bool{}
	port := func() int { // a free port not yet given to this cluster (data or bus)
		for {
			if p := freePort(t); !used[p] {
				used[p] = true
				return p
			}
		}
	}
	for range masters {
		port, bus := port(), port()
		s := &Server{Addr: "127.0.0.1:" + strconv.Itoa(port), Port: port, t: t, bin: bin}
		s.args = []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--daemonize", "no", "--loglevel", "notice", "--dir", t.TempDir(),
			"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-port", strconv.Itoa(bus),
			"--cluster-node-timeout", "5000"}
		s.start()
		t.Cleanup(s.Kill)
		c.Nodes = append(c.Nodes, s)
		c.Addrs = append(c.Addrs, s.Addr)
	}
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	c.waitOK(t)
	return c
}

// waitOK polls CLUSTER INFO on every node until each says cluster_state:ok and knows every
// node, or fails after 30s. Polling is the only signal Redis offers for cluster convergence.
func (c *Cluster) waitOK(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	want := "cluster_known_nodes:" + strconv.Itoa(len(c.Addrs))
	for _, addr := range c.Addrs {
		rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
		for {
			info, err := rdb.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") && strings.Contains(info, want) {
				break
			}
			if time.Now().After(deadline) {
				_ = rdb.Close()
				t.Fatalf("redistest: cluster not ok after 30s at %s: %v\n%s", addr, err, info)
			}
			time.Sleep(50 * time.Millisecond)
		}
		_ = rdb.Close()
	}
}

// Client returns a go-redis cluster client for the cluster, closed at cleanup, with go-redis's
// retries off as the store requires (redirections are still followed).
func (c *Cluster) Client(t testing.TB) *redis.ClusterClient {
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs, MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}
