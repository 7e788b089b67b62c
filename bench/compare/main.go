// Command compare measures the store against plain go-redis (also with the redisotel tracing
// hook), go-redis's AutoPipeline(), rueidis and the Node original (@igniter-js/store + ioredis,
// in a node process, see node.go) on one redis-server it starts on a free loopback port: GET,
// SET and an 80/20 mix of 100-byte values over 10k keys, closed loops of 1/16/64/256 callers.
// The clients run interleaved, cell after cell, in a shuffled order each repetition, so a noisy
// neighbour on a shared machine hits them alike. It prints, per cell, ops/s, p50/p99 latency,
// the client's CPU per op (user+system: getrusage of this process for the Go clients, the server
// and node being children and not counted; process.cpuUsage of the node process for the Node
// ones), the Go clients' heap allocations per op (runtime/metrics; the median over the
// repetitions) and each ratio to plain go-redis in the same repetition. The opt-in floor clients
// (floor.go) are go-redis's autopipeliner with only the store's telemetry. -cluster adds the
// cluster clients (cluster.go): the store, go-redis's ClusterClient and AutoPipeline and rueidis
// on a local 3-primary Redis Cluster the harness starts too, interleaved with the others, their
// ratios to the ClusterClient.
//
//	cd bench
//	(cd node && npm ci)    # once, for the node and node-autopipe clients
//	go run ./compare -d 1s -reps 2
//	go run ./compare -d 1s -reps 3 -cluster   # every client, single node and cluster
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

type config struct {
	dur     time.Duration
	reps    int
	callers []int
	loads   []string
	clients []string
	keys    int
	size    int
	cpuprof string
	profile string
	nodeDir string
	// set by run when the Node clients can run
	nodeBin, nodeScript string
	// set by run when a cluster client runs: the local cluster's nodes
	clusterAddrs []string
}

func main() {
	var c config
	var callers, loads, clients string
	var cluster bool
	flag.DurationVar(&c.dur, "d", time.Second, "measured time per cell")
	flag.IntVar(&c.reps, "reps", 2, "repetitions of the whole interleaved grid")
	flag.StringVar(&callers, "callers", "1,16,64,256", "concurrent callers (closed loops)")
	flag.StringVar(&loads, "loads", "get,set,mix", "workloads: get, set, mix (80% GET / 20% SET)")
	flag.StringVar(&clients, "clients", strings.Join(allClients, ","), "clients to compare (goredis is the baseline); also, opt-in: "+strings.Join(floorClients, ","))
	flag.IntVar(&c.keys, "keys", 10_000, "key count")
	flag.IntVar(&c.size, "size", 100, "value size in bytes")
	flag.StringVar(&c.profile, "profile", "", "profile only this client (with -cpuprofile): runs it alone on the grid")
	flag.StringVar(&c.cpuprof, "cpuprofile", "", "write a CPU profile of the -profile client's cells to this file")
	flag.Float64Var(&sampleRatio, "sample", 1, "share of operations the traced clients (goredis-otel, store-obs-otel, floor-obs-otel) sample: 1 samples every one, below 1 a TraceIDRatioBased sampler")
	flag.StringVar(&c.nodeDir, "nodedir", "", "folder of bench.mjs and its node_modules (default: bench/node)")
	flag.BoolVar(&cluster, "cluster", false, "add the cluster clients ("+strings.Join(clusterClients, ",")+") on a local "+
		strconv.Itoa(clusterPrimaries)+"-primary Redis Cluster; -clients may also name them one by one")
	flag.Parse()
	if !(sampleRatio > 0 && sampleRatio <= 1) {
		fatal("bad -sample %v: a share in (0, 1]", sampleRatio)
	}
	for _, s := range strings.Split(callers, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fatal("bad -callers %q", callers)
		}
		c.callers = append(c.callers, n)
	}
	c.loads = strings.Split(loads, ",")
	c.clients = strings.Split(clients, ",")
	if cluster {
		for _, n := range clusterClients {
			if !slices.Contains(c.clients, n) {
				c.clients = append(c.clients, n)
			}
		}
	}
	if slices.ContainsFunc(c.clients, isClusterClient) && !slices.Contains(c.clients, clusterBaseline) {
		c.clients = append(c.clients, clusterBaseline) // the cluster clients' ratios are to it
	}
	if err := run(c); err != nil {
		fatal("%v", err)
	}
}

func fatal(f string, a ...any) {
	fmt.Fprintf(os.Stderr, "compare: "+f+"\n", a...)
	os.Exit(1)
}

func run(c config) error {
	srv, addr, err := startServer()
	if err != nil {
		return err
	}
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
	ctx := context.Background()
	value := strings.Repeat("v", c.size)
	keys := make([]string, c.keys)
	for i := range keys {
		keys[i] = keyPrefix + strconv.Itoa(i)
	}
	if err := seed(ctx, addr, keys, value); err != nil {
		return err
	}
	names := c.clients
	if c.profile != "" {
		names = []string{c.profile}
	}
	if slices.ContainsFunc(names, isClusterClient) {
		addrs, stop, err := startCluster(clusterPrimaries)
		if err != nil {
			return fmt.Errorf("cluster: %w", err)
		}
		defer stop()
		if err := seedCluster(ctx, addrs, keys, value); err != nil {
			return fmt.Errorf("cluster: %w", err)
		}
		c.clusterAddrs = addrs
	}
	if nn := nodeNames(names); len(nn) > 0 {
		c.nodeBin, c.nodeScript, err = nodeSetup(c.nodeDir)
		if err != nil {
			fmt.Fprintf(os.Stderr, "compare: skipping %s: %v\n", strings.Join(nn, ", "), err)
			names = slices.DeleteFunc(slices.Clone(names), isNodeClient)
		}
	}
	cls := make(map[string]*benchClient, len(names))
	for _, n := range names {
		bc, err := newClient(n, addr, c)
		if err != nil {
			return fmt.Errorf("%s: %w", n, err)
		}
		defer bc.close()
		cls[n] = bc
	}
	if c.cpuprof != "" {
		stop, err := startProfile(c.cpuprof)
		if err != nil {
			return err
		}
		defer stop()
	}
	fmt.Printf("# compare: GOMAXPROCS=%d, %s per cell, %d repetitions, %d keys, %d-byte values, redis-server at %s\n",
		runtime.GOMAXPROCS(0), c.dur, c.reps, c.keys, c.size, addr)
	if c.clusterAddrs != nil {
		fmt.Printf("# cluster clients: a %d-primary Redis Cluster at %s\n", clusterPrimaries, strings.Join(c.clusterAddrs, ","))
	}
	for _, n := range names {
		if a := cls[n].about; a != "" {
			fmt.Printf("# %s: %s\n", n, a)
		}
	}
	res := map[cell][]result{}
	for rep := range c.reps {
		for _, load := range c.loads {
			for _, n := range c.callers {
				order := slices.Clone(names)
				rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
				for _, name := range order {
					r, err := measure(ctx, cls[name], load, n, keys, value, c.dur)
					if err != nil {
						return fmt.Errorf("%s, %s, %d callers: %w", name, load, n, err)
					}
					r.rep = rep
					res[cell{load, n, name}] = append(res[cell{load, n, name}], r)
				}
			}
		}
		fmt.Fprintf(os.Stderr, "repetition %d done\n", rep+1)
	}
	summary(c, names, res)
	report(c, names, res)
	return nil
}

// keyPrefix starts each of the bench's keys: keyPrefix + 0..keys-1 (in the store's KV namespace
// for the store clients and the Node original, see storeKey).
const keyPrefix = "bench:"

type cell struct {
	load    string
	callers int
	client  string
}

type result struct {
	rep      int
	ops      float64 // per second
	p50, p99 time.Duration
	cpuPerOp time.Duration
	errors   int64
	// allocsPerOp and bytesPerOp are this process's heap allocations per op during the cell
	// (runtime/metrics), the harness's own included (a latency sample is appended to a
	// preallocated slice); negative for a client in another process, which reports none.
	allocsPerOp, bytesPerOp float64
}

// measure runs n closed loops of load on bc for d after a short warm-up. A client in another
// process measures the cell itself, with the same warm-up, and its own CPU.
func measure(ctx context.Context, bc *benchClient, load string, n int, keys []string, value string, d time.Duration) (result, error) {
	if bc.cell != nil {
		return bc.cell(load, n, d)
	}
	var stop atomic.Bool
	var measuring atomic.Bool
	var wg sync.WaitGroup
	lats := make([][]time.Duration, n)
	counts := make([]int64, n)
	errs := make([]int64, n)
	for i := range n {
		lats[i] = make([]time.Duration, 0, 4096)
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			for !stop.Load() {
				k := keys[rng.IntN(len(keys))]
				get := load == "get" || (load == "mix" && rng.IntN(10) < 8)
				t0 := time.Now()
				var err error
				if get {
					err = bc.get(ctx, k)
				} else {
					err = bc.set(ctx, k, value)
				}
				if measuring.Load() {
					counts[i]++
					if err != nil {
						errs[i]++
					}
					// Every op's latency up to a bound, then every 16th.
					if len(lats[i]) < 1<<16 || counts[i]%16 == 0 {
						lats[i] = append(lats[i], time.Since(t0))
					}
				}
			}
		}(i)
	}
	time.Sleep(d / 5) // warm-up: connections dialled, batches formed
	ru0, al0 := rusage(), heapAllocs()
	t0 := time.Now()
	measuring.Store(true)
	time.Sleep(d)
	measuring.Store(false)
	el := time.Since(t0)
	ru1, al1 := rusage(), heapAllocs()
	stop.Store(true)
	wg.Wait()
	var total, nerr int64
	var all []time.Duration
	for i := range n {
		total += counts[i]
		nerr += errs[i]
		all = append(all, lats[i]...)
	}
	slices.Sort(all)
	r := result{ops: float64(total) / el.Seconds(), errors: nerr}
	if len(all) > 0 {
		r.p50 = all[len(all)/2]
		r.p99 = all[len(all)*99/100]
	}
	if total > 0 {
		r.cpuPerOp = (ru1 - ru0) / time.Duration(total)
		r.allocsPerOp = float64(al1.objects-al0.objects) / float64(total)
		r.bytesPerOp = float64(al1.bytes-al0.bytes) / float64(total)
	}
	return r, nil
}

// allocCount is the cumulative count and size of this process's heap allocations.
type allocCount struct{ objects, bytes uint64 }

// heapAllocs reads allocCount from runtime/metrics, which, unlike runtime.ReadMemStats, does not
// stop the world.
func heapAllocs() allocCount {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:objects"}, {Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return allocCount{objects: s[0].Value.Uint64(), bytes: s[1].Value.Uint64()}
}

// rusage is this process's CPU time, user + system.
func rusage() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// group is the clients of one table: title names the baseline their ratios are to.
type group struct {
	title string
	names []string
}

// groups splits names by the baseline their ratios are to: the single-node clients (to
// goredis), then the cluster clients (to cluster-goredis). Each group is its own table.
func groups(names []string) []group {
	var out []group
	if single := slices.DeleteFunc(slices.Clone(names), isClusterClient); len(single) > 0 {
		out = append(out, group{"go-redis", single})
	}
	if cl := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return !isClusterClient(n) }); len(cl) > 0 {
		out = append(out, group{"go-redis ClusterClient, on the cluster", cl})
	}
	return out
}

func report(c config, names []string, res map[cell][]result) {
	for _, g := range groups(names) {
		reportGroup(c, g.title, g.names, res)
	}
}

func reportGroup(c config, title string, names []string, res map[cell][]result) {
	for _, load := range c.loads {
		fmt.Printf("\n## %s, ratios to %s\n\n", strings.ToUpper(load), title)
		fmt.Printf("| callers | client | ops/s | ratio to %s | p50 µs | p99 µs | client CPU µs/op | allocs/op | B/op | errors |\n", title)
		fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
		for _, n := range c.callers {
			base := res[cell{load, n, baselineOf(names[0])}]
			for _, name := range names {
				rs := res[cell{load, n, name}]
				var ops, p50, p99, cpu, ratio []string
				var allocs, bytes []float64
				var nerr int64
				for i, r := range rs {
					ops = append(ops, fmt.Sprintf("%.0f", r.ops))
					p50 = append(p50, us(r.p50))
					p99 = append(p99, us(r.p99))
					cpu = append(cpu, fmt.Sprintf("%.1f", float64(r.cpuPerOp)/1e3))
					if r.allocsPerOp >= 0 {
						allocs, bytes = append(allocs, r.allocsPerOp), append(bytes, r.bytesPerOp)
					}
					if i < len(base) && base[i].ops > 0 {
						ratio = append(ratio, fmt.Sprintf("%.2f", r.ops/base[i].ops))
					}
					nerr += r.errors
				}
				fmt.Printf("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %d |\n", n, name,
					strings.Join(ops, " / "), strings.Join(ratio, " / "), strings.Join(p50, " / "),
					strings.Join(p99, " / "), strings.Join(cpu, " / "), medianOrDash(allocs, "%.1f"),
					medianOrDash(bytes, "%.0f"), nerr)
			}
		}
	}
}

// summary prints, per workload, the median over the repetitions of each client's ratio to
// its baseline (go-redis, or go-redis's ClusterClient for the cluster clients) and of its CPU per
// op: the two numbers that survive a shared machine best.
func summary(c config, names []string, res map[cell][]result) {
	for _, g := range groups(names) {
		summaryGroup(c, g.title, g.names, res)
	}
}

func summaryGroup(c config, title string, names []string, res map[cell][]result) {
	for _, load := range c.loads {
		fmt.Printf("\n## %s — median ratio to %s (median client CPU µs/op)\n\n| callers |", strings.ToUpper(load), title)
		for _, name := range names {
			fmt.Printf(" %s |", name)
		}
		fmt.Print("\n|---|")
		for range names {
			fmt.Print("---|")
		}
		fmt.Println()
		for _, n := range c.callers {
			fmt.Printf("| %d |", n)
			base := res[cell{load, n, baselineOf(names[0])}]
			for _, name := range names {
				var ratios, cpus []float64
				for i, r := range res[cell{load, n, name}] {
					if i < len(base) && base[i].ops > 0 {
						ratios = append(ratios, r.ops/base[i].ops)
					}
					cpus = append(cpus, float64(r.cpuPerOp)/1e3)
				}
				fmt.Printf(" %.2f (%.1f) |", median(ratios), median(cpus))
			}
			fmt.Println()
		}
	}
}

// medianOrDash formats the median of xs, or "–" when there is none (a client in another process).
func medianOrDash(xs []float64, format string) string {
	if len(xs) == 0 {
		return "–"
	}
	return fmt.Sprintf(format, median(xs))
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func us(d time.Duration) string { return fmt.Sprintf("%.0f", float64(d)/1e3) }

// startServer runs redis-server on a free loopback port, without persistence.
func startServer() (*exec.Cmd, string, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, "", fmt.Errorf("redis-server not found: %w", err)
	}
	port := freePort()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer rdb.Close()
	for i := 0; ; i++ {
		if rdb.Ping(context.Background()).Err() == nil {
			return cmd, addr, nil
		}
		if i > 200 {
			_ = cmd.Process.Kill()
			return nil, "", fmt.Errorf("redis-server at %s not ready", addr)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func seed(ctx context.Context, addr string, keys []string, value string) error {
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer rdb.Close()
	_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Set(ctx, k, value, 0)
			p.Set(ctx, storeKey(k), `"`+value+`"`, 0) // the store's key and JSON value
		}
		return nil
	})
	return err
}

// freePort asks the kernel for a free loopback port.
func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatal("no free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
