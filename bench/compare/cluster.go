package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"

	"github.com/igniter-go/store/client"
)

// The cluster clients run the same workload on a local Redis Cluster of clusterPrimaries
// primaries (no replicas, no persistence) that the harness starts beside the single server when
// one of them is asked for (-cluster adds them all). Their ratios are to cluster-goredis, go-redis's
// ClusterClient with its defaults, in the same repetition; the single-node clients keep theirs to
// goredis. The servers are child processes, so their CPU is not counted in a client's CPU per op.
var clusterClients = []string{
	"cluster-goredis",      // go-redis ClusterClient, default pools: the baseline of the cluster clients
	"cluster-store",        // the store on that ClusterClient, default chain, no telemetry
	"cluster-store-obs",    // + Prometheus metrics + slog events at info
	"cluster-autopipeline", // go-redis ClusterClient.AutoPipeline() (blocking face, defaults)
	"cluster-rueidis",      // rueidis on the cluster (it finds the slots from InitAddress), client-side cache off
}

// clusterBaseline is the client the cluster clients' ratios are to.
const clusterBaseline = "cluster-goredis"

// clusterPrimaries is the size of the local cluster.
const clusterPrimaries = 3

func isClusterClient(name string) bool { return strings.HasPrefix(name, "cluster-") }

// baselineOf is the client name's ratios are to.
func baselineOf(name string) string {
	if isClusterClient(name) {
		return clusterBaseline
	}
	return "goredis"
}

func newClusterClient(name string, addrs []string) (*benchClient, error) {
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, MaxRetries: -1, ContextTimeoutEnabled: true})
	switch name {
	case "cluster-goredis":
		return goRedisBench(rdb, func() { _ = rdb.Close() }), nil
	case "cluster-autopipeline":
		ap, err := rdb.AutoPipeline()
		if err != nil {
			_ = rdb.Close()
			return nil, err
		}
		return goRedisBench(ap, func() { _ = rdb.Close() }), nil
	case "cluster-store", "cluster-store-obs":
		b := client.New().WithAdapter(client.Redis(rdb, client.OwnClient())).WithService(service)
		if name == "cluster-store-obs" {
			b = observed(b)
		}
		st, err := b.Build()
		if err != nil {
			_ = rdb.Close()
			return nil, err
		}
		return storeBench(st, func() { _ = st.Close() }), nil
	case "cluster-rueidis":
		_ = rdb.Close()
		c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: addrs, DisableCache: true})
		if err != nil {
			return nil, err
		}
		return rueidisBench(c), nil
	}
	_ = rdb.Close()
	return nil, fmt.Errorf("unknown cluster client %q", name)
}

// startCluster runs n redis-server primaries in cluster mode on free loopback ports, without
// persistence, gives each an equal range of the 16384 slots (CLUSTER ADDSLOTSRANGE, as redis-cli
// --cluster create does, without needing redis-cli), joins them (CLUSTER MEET) and waits until
// every node reports cluster_state:ok and knows all n. stop kills the servers and removes their
// folder.
func startCluster(n int) (addrs []string, stop func(), err error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, nil, fmt.Errorf("redis-server not found: %w", err)
	}
	dir, err := os.MkdirTemp("", "compare-cluster-")
	if err != nil {
		return nil, nil, err
	}
	var procs []*exec.Cmd
	stop = func() {
		for _, p := range procs {
			_ = p.Process.Kill()
			_ = p.Wait()
		}
		_ = os.RemoveAll(dir)
	}
	fail := func(err error) ([]string, func(), error) { stop(); return nil, nil, err }
	ports, buses := make([]int, n), make([]int, n)
	used := map[int]bool{}
	for i := range n {
		for _, p := range []*int{&ports[i], &buses[i]} {
			for *p = freePort(); used[*p]; *p = freePort() {
			}
			used[*p] = true
		}
		nodeDir := filepath.Join(dir, strconv.Itoa(ports[i]))
		if err := os.Mkdir(nodeDir, 0o700); err != nil {
			return fail(err)
		}
		cmd := exec.Command(bin, "--port", strconv.Itoa(ports[i]), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", nodeDir, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-port", strconv.Itoa(buses[i]), "--cluster-node-timeout", "5000")
		if err := cmd.Start(); err != nil {
			return fail(err)
		}
		procs = append(procs, cmd)
		addrs = append(addrs, "127.0.0.1:"+strconv.Itoa(ports[i]))
	}
	ctx := context.Background()
	nodes := make([]*redis.Client, n)
	for i, a := range addrs {
		nodes[i] = redis.NewClient(&redis.Options{Addr: a, MaxRetries: -1})
		defer nodes[i].Close()
	}
	if err := await(30*time.Second, func() error {
		for _, c := range nodes {
			if err := c.Ping(ctx).Err(); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return fail(fmt.Errorf("cluster nodes not ready: %w", err))
	}
	for i, c := range nodes {
		from, to := i*16384/n, (i+1)*16384/n-1
		if err := c.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", from, to).Err(); err != nil {
			return fail(err)
		}
		if err := c.Do(ctx, "CLUSTER", "SET-CONFIG-EPOCH", i+1).Err(); err != nil {
			return fail(err)
		}
	}
	for i := 1; i < n; i++ {
		if err := nodes[0].Do(ctx, "CLUSTER", "MEET", "127.0.0.1", ports[i], buses[i]).Err(); err != nil {
			return fail(err)
		}
	}
	if err := await(30*time.Second, func() error {
		for i, c := range nodes {
			info, err := c.ClusterInfo(ctx).Result()
			if err != nil {
				return err
			}
			if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(n)+"\r") {
				return fmt.Errorf("%s: not joined yet", addrs[i])
			}
		}
		return nil
	}); err != nil {
		return fail(fmt.Errorf("cluster did not form: %w", err))
	}
	return addrs, stop, nil
}

// await polls ok every 25 ms until it returns nil or d has passed (a forming cluster sends no
// signal but its state).
func await(d time.Duration, ok func() error) error {
	deadline := time.Now().Add(d)
	for {
		err := ok()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// seedCluster writes the workload's keys on the cluster as seed does on the single server.
func seedCluster(ctx context.Context, addrs []string, keys []string, value string) error {
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, MaxRetries: -1})
	defer rdb.Close()
	_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Set(ctx, k, value, 0)
			p.Set(ctx, storeKey(k), `"`+value+`"`, 0)
		}
		return nil
	})
	return err
}
