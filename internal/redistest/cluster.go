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

// Cluster is a real Redis Cluster owned by one test: primaries (with replicas when
// [StartClusterWith] asks for them), every node on free loopback ports, persistence off, all
// killed at the test's cleanup.
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
	return StartClusterWith(t, ClusterOptions{Primaries: masters})
}

// ClusterOptions shape a test cluster. Zero fields mean the defaults given.
type ClusterOptions struct {
	// Primaries is the number of primaries; below 3 (the least Redis accepts) means 3.
	Primaries int
	// ReplicasPerPrimary is the number of replicas of each primary. Default 0.
	ReplicasPerPrimary int
	// NodeTimeout is cluster-node-timeout: how long a node may be unreachable before the others
	// fail it over. Default 5s; failover tests use about 1s.
	NodeTimeout time.Duration
}

// StartClusterWith starts a cluster of o.Primaries primaries with o.ReplicasPerPrimary replicas
// each (`redis-cli --cluster create … --cluster-replicas n`), waits until every node reports
// cluster_state:ok and knows every other node, and, with replicas, until each replica's link to
// its primary is up. Addrs and Nodes list every node, primaries and replicas; [Cluster.Primaries]
// tells which is which now. It skips or fails as [StartCluster] does.
func StartClusterWith(t testing.TB, o ClusterOptions) *Cluster {
	t.Helper()
	masters := max(o.Primaries, 3)
	replicas := max(o.ReplicasPerPrimary, 0)
	timeout := o.NodeTimeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
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
	for range masters * (1 + replicas) {
		s := &Server{t: t, bin: bin}
		dir := t.TempDir()
		s.repick = func() {
			port, bus := port(), port()
			s.Addr, s.Port = "127.0.0.1:"+strconv.Itoa(port), port
			s.args = []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
				"--daemonize", "no", "--loglevel", "notice", "--dir", dir,
				"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-port", strconv.Itoa(bus),
				"--cluster-node-timeout", strconv.FormatInt(timeout.Milliseconds(), 10),
				// A replica may always take over, however long its primary has been gone.
				"--cluster-replica-validity-factor", "0"}
		}
		s.repick()
		s.start()
		s.repick = nil // the cluster is formed on these ports
		t.Cleanup(s.Kill)
		c.Nodes = append(c.Nodes, s)
		c.Addrs = append(c.Addrs, s.Addr)
	}
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	c.waitOK(t)
	if replicas > 0 {
		c.waitReplicas(t, masters*replicas)
	}
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
// retries off and ctx deadlines honoured (ContextTimeoutEnabled) as the store requires
// (redirections are still followed).
func (c *Cluster) Client(t testing.TB) *redis.ClusterClient {
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs, MaxRetries: -1, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}
