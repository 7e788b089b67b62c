package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// config is the run's settings; flags fill it. The zero value of each optional field means the
// default its flag documents.
type config struct {
	scenario    string
	duration    time.Duration
	warmup      time.Duration
	ops         int64
	concurrency int
	rate        float64
	tenants     int

	redisAddr    string
	clusterAddrs []string
	startRedis   bool
	noPipeline   bool // client.WithoutPipelining()

	metricsAddr string
	jsonFile    string
	htmlFile    string
	progress    string // auto, on, off

	chaos     bool
	chaosDown time.Duration
	compare   bool

	// kv
	keys      int
	reads     float64
	valueSize int
	dist      string // uniform, zipf
	// counter
	limit int64
	users int
	// claim
	claimKeys int
	// events
	publishers, subscribers int
	// streams
	consumers int
	// check
	faults    []string
	seed      uint64
	round     time.Duration
	checkCell []string
}

// scenarios lists -scenario's values.
var scenarios = []string{"kv", "counter", "claim", "events", "streams", "mixed", "check"}

// parseFlags reads args into a config. -h returns flag.ErrHelp after printing the usage to out.
func parseFlags(args []string, out io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.scenario, "scenario", "kv", "workload: "+strings.Join(scenarios, ", ")+" (see the README's load-test section)")
	durationVar(fs, &c.duration, "duration", 8*time.Second, "how long to measure (warm-up excluded); with -ops, an upper bound")
	durationVar(fs, &c.warmup, "warmup", time.Second, "how long to run before measuring (not recorded)")
	fs.Int64Var(&c.ops, "ops", 0, "stop after this many measured operations (0: run for -duration)")
	fs.IntVar(&c.concurrency, "concurrency", 32, "workers (closed loop: each has one call in flight; open loop: they share the schedule)")
	fs.Float64Var(&c.rate, "rate", 0, "open loop: start this many operations per second in total, latency counted from each call's scheduled start (0: closed loop)")
	fs.IntVar(&c.tenants, "tenants", 1, "spread operations over this many scoped stores (scope tenant=t0..tN-1)")
	fs.StringVar(&c.redisAddr, "redis", "", "run against the Redis at host:port (default: an embedded miniredis)")
	cluster := fs.String("cluster", "", "run against the Redis Cluster with these comma-separated seed addresses")
	fs.BoolVar(&c.startRedis, "start-redis", false, "start a redis-server of the harness's own on a free loopback port for the run, and stop it after")
	fs.BoolVar(&c.noPipeline, "no-pipeline", false, "turn the store's pipelining off (client.WithoutPipelining()): every command takes a pooled connection, to compare")
	fs.StringVar(&c.metricsAddr, "metrics-addr", "", "serve the store's Prometheus metrics at http://HOST:PORT/metrics during the run")
	fs.StringVar(&c.jsonFile, "json", "", "also write the report as JSON to this file")
	fs.StringVar(&c.htmlFile, "html", "", "also write a self-contained HTML report (charts) to this file")
	fs.StringVar(&c.progress, "progress", "auto", "live progress line on stderr: auto (only on a terminal), on, off")
	fs.BoolVar(&c.chaos, "chaos", false, "start a redis-server of its own, SIGKILL it a quarter into the measured run, restart it -chaos-down later, and report errors, fast-fails and recovery")
	durationVar(fs, &c.chaosDown, "chaos-down", 5*time.Second, "how long the server stays down in -chaos mode")
	fs.BoolVar(&c.compare, "compare", false, "run the same workload through plain go-redis and through the store, interleaved, and print both with their ratios (kv, counter, claim)")
	fs.IntVar(&c.keys, "keys", 10_000, "kv: distinct keys per tenant")
	fs.Float64Var(&c.reads, "reads", 0.8, "kv: fraction of operations that are reads (KV.Get); the rest are KV.Set")
	fs.IntVar(&c.valueSize, "value-size", 128, "kv: approximate size in bytes of each JSON value")
	fs.StringVar(&c.dist, "dist", "uniform", "kv: key distribution, uniform or zipf (s=1.1: a few hot keys)")
	fs.Int64Var(&c.limit, "limit", 10, "counter, mixed: rate-limit checks allowed per user per second, with bursts of as many (ratelimit package, GCRA)")
	fs.IntVar(&c.users, "users", 1000, "counter, mixed: users per tenant, picked with a Zipf distribution (s=1.1): a few hot users exceed -limit, most stay under it")
	fs.IntVar(&c.claimKeys, "claim-keys", 8, "claim: lease names the workers contend for")
	fs.IntVar(&c.publishers, "publishers", 0, "events: publishing workers (default: -concurrency)")
	fs.IntVar(&c.subscribers, "subscribers", 4, "events: subscriptions per tenant receiving every event")
	fs.IntVar(&c.consumers, "consumers", 4, "streams: consumers in the consumer group")
	faults := fs.String("faults", strings.Join(checkFaultNames(), ","), "check: the faults to inject, comma-separated: "+strings.Join(checkFaultNames(), ", ")+" (cluster-… and sentinel-… start that set-up)")
	fs.Uint64Var(&c.seed, "seed", 0, "check: the seed of the fault schedule and the workloads, printed by every run to replay it (0: random)")
	durationVar(fs, &c.round, "round", 3*time.Second, "check: how long each round runs (at least 8s on a cluster or under Sentinel); each round's history is checked on its own")
	cells := fs.String("cells", strings.Join(checkCellNames, ","), "check: the models to run, comma-separated: "+strings.Join(checkCellNames, ", "))
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(out)
			fmt.Fprintln(out, "usage: go run ./loadtest [flags]")
			fs.PrintDefaults()
		}
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q (flags start with -)", fs.Arg(0))
	}
	if *cluster != "" {
		c.clusterAddrs = strings.Split(*cluster, ",")
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if c.ops > 0 && !set["duration"] {
		c.duration = time.Hour
	}
	if c.publishers == 0 {
		c.publishers = c.concurrency
	}
	c.faults, c.checkCell = splitList(*faults), splitList(*cells)
	if c.scenario == "check" && !set["concurrency"] {
		c.concurrency = 4 // a history's check grows with its concurrency: four clients per round
	}
	return c, c.check()
}

// check validates the settings; each error is one line naming the flag.
func (c config) check() error {
	targets := 0
	// -chaos starts a server of its own, so it goes with -start-redis (which it implies) but
	// not with -redis or -cluster.
	for _, on := range []bool{c.redisAddr != "", len(c.clusterAddrs) > 0, c.startRedis || c.chaos} {
		if on {
			targets++
		}
	}
	switch {
	case !contains(scenarios, c.scenario):
		return fmt.Errorf("-scenario %q is not one of %s", c.scenario, strings.Join(scenarios, ", "))
	case c.duration <= 0:
		return errors.New("-duration must be positive")
	case c.warmup < 0:
		return errors.New("-warmup must not be negative")
	case c.ops < 0:
		return errors.New("-ops must not be negative")
	case c.concurrency <= 0:
		return errors.New("-concurrency must be positive")
	case c.rate < 0:
		return errors.New("-rate must not be negative")
	case c.tenants <= 0:
		return errors.New("-tenants must be positive")
	case targets > 1 && c.chaos:
		return errors.New("-chaos starts and kills a redis-server of its own: leave -redis and -cluster out")
	case targets > 1:
		return errors.New("-redis, -cluster and -start-redis pick the target: give at most one")
	case c.redisAddr != "" && !validAddr(c.redisAddr):
		return fmt.Errorf("-redis %q is not host:port", c.redisAddr)
	case c.metricsAddr != "" && !validAddr(c.metricsAddr):
		return fmt.Errorf("-metrics-addr %q is not host:port", c.metricsAddr)
	case c.progress != "auto" && c.progress != "on" && c.progress != "off":
		return fmt.Errorf("-progress %q is not auto, on or off", c.progress)
	case c.chaos && c.chaosDown <= 0:
		return errors.New("-chaos-down must be positive")
	case c.compare && !contains(compareScenarios, c.scenario):
		return fmt.Errorf("-compare works with -scenario %s (plain go-redis has no equivalent of %s here)", strings.Join(compareScenarios, ", "), c.scenario)
	case c.compare && c.chaos:
		return errors.New("-compare and -chaos do not mix: an outage in one variant's turn would skew the ratios")
	case c.compare && c.rate > 0:
		return errors.New("-compare runs closed loops; leave -rate out")
	case c.keys <= 0:
		return errors.New("-keys must be positive")
	case c.reads < 0 || c.reads > 1:
		return errors.New("-reads must be between 0 and 1")
	case c.valueSize < 0:
		return errors.New("-value-size must not be negative")
	case c.dist != "uniform" && c.dist != "zipf":
		return fmt.Errorf("-dist %q is not uniform or zipf", c.dist)
	case c.limit <= 0 || c.limit > 1_000_000:
		return errors.New("-limit must be between 1 and 1000000 (the rate limiter's finest rate is one per microsecond)")
	case c.users <= 0:
		return errors.New("-users must be positive")
	case c.claimKeys <= 0:
		return errors.New("-claim-keys must be positive")
	case c.publishers <= 0 || c.subscribers <= 0:
		return errors.New("-publishers and -subscribers must be positive")
	case c.consumers <= 0:
		return errors.New("-consumers must be positive")
	}
	if c.scenario == "check" {
		if err := c.checkCheck(); err != nil {
			return err
		}
	}
	for _, a := range c.clusterAddrs {
		if !validAddr(a) {
			return fmt.Errorf("-cluster address %q is not host:port", a)
		}
	}
	return nil
}

// checkCheck validates -scenario check's settings.
func (c config) checkCheck() error {
	switch {
	case c.redisAddr != "" || len(c.clusterAddrs) > 0 || c.startRedis || c.chaos:
		return errors.New("-scenario check starts, freezes and restarts a redis-server of its own: leave -redis, -cluster, -start-redis and -chaos out")
	case c.compare || c.rate > 0 || c.ops > 0:
		return errors.New("-scenario check runs closed-loop rounds of recorded operations: leave -compare, -rate and -ops out")
	case c.round <= 0:
		return errors.New("-round must be positive")
	case len(c.faults) == 0:
		return errors.New("-faults names no fault")
	case len(c.checkCell) == 0:
		return errors.New("-cells names no model")
	}
	for _, f := range c.faults {
		if !contains(checkFaultNames(), f) {
			return fmt.Errorf("-faults: %q is not one of %s", f, strings.Join(checkFaultNames(), ", "))
		}
	}
	for _, m := range c.checkCell {
		if !contains(checkCellNames, m) {
			return fmt.Errorf("-cells: %q is not one of %s", m, strings.Join(checkCellNames, ", "))
		}
	}
	return nil
}

// durationValue is a duration flag whose parse error says what a duration looks like: the flag
// package's own says only "parse error", and "-duration 3" (no unit) is the usual mistake.
type durationValue struct{ d *time.Duration }

func durationVar(fs *flag.FlagSet, d *time.Duration, name string, value time.Duration, usage string) {
	*d = value
	fs.Var(durationValue{d}, name, usage+" (a `duration` with its unit: 500ms, 3s, 2m)")
}

func (v durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err == nil {
		*v.d = d
		return nil
	}
	if _, nerr := strconv.ParseFloat(s, 64); nerr == nil {
		return fmt.Errorf("a duration needs a unit: %ss (or ms, m, h)", s)
	}
	return errors.New("not a duration: write it as 500ms, 3s, 1m30s or 2h")
}

func (v durationValue) String() string {
	if v.d == nil { // the flag package's zero-value probe
		return "0s"
	}
	return v.d.String()
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func validAddr(a string) bool {
	_, port, err := net.SplitHostPort(a)
	return err == nil && port != ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
