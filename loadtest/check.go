package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/faultproxy"
	"github.com/igniter-go/store/internal/history"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/loadtest/internal/redisproc"
	"github.com/igniter-go/store/nearcache"
)

// checkCellNames lists -cells' values: the models of internal/history.
var checkCellNames = []string{"kv", "counter", "lease", "stream", "nearcache", "leader"}

// replicatedCells are the cells a cluster or Sentinel target runs (the near cache needs a
// single node; the lease and the leader are checked on one).
var replicatedCells = []string{"kv", "counter", "stream"}

// replicatedBackends are the targets besides the single redis-server; their faults are named
// <backend>-<fault> (cluster-failover, sentinel-kill-primary).
var replicatedBackends = []string{"cluster", "sentinel"}

// checkFaultNames lists -faults' values: the single-node faults, then the failover faults on a
// cluster and under Sentinel.
func checkFaultNames() []string {
	names := make([]string, 0, len(history.AllFaults)+len(replicatedBackends)*len(history.FailoverFaults))
	for _, f := range history.AllFaults {
		names = append(names, string(f))
	}
	for _, b := range replicatedBackends {
		for _, f := range history.FailoverFaults {
			names = append(names, b+"-"+string(f))
		}
	}
	return names
}

// faultsByBackend sorts -faults by target: "" for the single redis-server, then each
// replicated backend.
func faultsByBackend(names []string) map[string][]history.Fault {
	out := map[string][]history.Fault{}
	for _, n := range names {
		backend := ""
		for _, b := range replicatedBackends {
			if f, ok := strings.CutPrefix(n, b+"-"); ok {
				backend, n = b, f
			}
		}
		out[backend] = append(out[backend], history.Fault(n))
	}
	return out
}

// checkOpTimeout is each operation's deadline in -scenario check: short, so frozen servers and
// delayed replies make operations of unknown outcome, not just slow ones. On a cluster and
// under Sentinel it is failoverOpTimeout: an operation waiting for a connection to a dead
// primary until its deadline has an unknown outcome, and the seconds of a promotion would make
// dozens of them (a counter history with that many is more than porcupine can check).
const (
	checkOpTimeout    = 250 * time.Millisecond
	failoverOpTimeout = time.Second
)

// failoverRound is the least a round lasts on a cluster or under Sentinel: a promotion after a
// SIGKILL takes a few seconds (failure detection, an election), and the clients must work on
// the new primary after it.
const failoverRound = 8 * time.Second

// failoverPace and failoverPerClient shape a round on a cluster or under Sentinel: each client
// waits failoverPace after each operation, and runs at most failoverPerClient of them.
const (
	failoverPace      = 2 * time.Millisecond
	failoverPerClient = 4000
)

// failureDetection is cluster-node-timeout and Sentinel's down-after-milliseconds: a node or a
// sentinel slowed down by a busy machine must not be failed over by the set-up itself (the
// round would report an unplanned failover).
const failureDetection = 2 * time.Second

// checkTarget is one of -scenario check's set-ups: a redis-server with a fault proxy in front,
// or a cluster, or a Sentinel set-up, and the store on it.
type checkTarget struct {
	history.Target
	backend string // "" for the single redis-server
	faults  []history.Fault
	round   time.Duration
	srv     *redisproc.Server  // the single redis-server
	prog    *redistest.Program // a replicated set-up's processes
	near    *nearcache.Near    // the nearcache cell's, on the store, its own client through the proxy
	desc    string
}

// label names a round's cell on the target in the log and the summary.
func (t *checkTarget) label(cell string) string {
	if t.backend == "" {
		return cell
	}
	return cell + "@" + t.backend
}

// cell returns the named cell, false when it does not run on the target.
func (t *checkTarget) cell(name string) (history.Cell, bool) {
	if t.backend != "" && !slices.Contains(replicatedCells, name) {
		return nil, false
	}
	switch name {
	case "nearcache":
		return history.NearKVCell(t.near), true
	case "counter":
		return history.CounterCell(), true
	case "lease":
		return history.LeaseCell(), true
	case "stream":
		return history.StreamCell(), true
	case "leader":
		return history.LeaderCell(), true
	}
	return history.KVCell(), true
}

// procServer is the harness's redis-server as the history package restarts and freezes it.
type procServer struct{ *redisproc.Server }

func (s procServer) Restart() error { return s.KillAndRestart() }

// openCheckTarget starts a redis-server (with the AOF fsynced before every reply when the run
// restarts it, so a plain restart loses nothing acknowledged), a fault proxy, and the store on a
// go-redis client through the proxy, retries off, replies delayable.
func openCheckTarget(c config, faults []history.Fault) (*checkTarget, error) {
	var persist []string
	desc := "no persistence"
	if slices.Contains(faults, history.Restart) {
		persist = []string{"--appendonly", "yes", "--appendfsync", "always"}
		desc = "AOF fsynced on every write"
	}
	srv, err := redisproc.StartWith(persist...)
	if err != nil {
		return nil, fmt.Errorf("-scenario check injects faults into a redis-server of its own (the embedded miniredis cannot be frozen or killed): %w", err)
	}
	p, err := faultproxy.Listen(srv.Addr)
	if err != nil {
		srv.Close()
		return nil, err
	}
	delay := &history.Delayer{}
	rdb := redis.NewClient(&redis.Options{Addr: p.Addr, MaxRetries: -1, Dialer: delay.Dialer(),
		ContextTimeoutEnabled: true, PoolSize: c.concurrency + 4})
	st, err := client.New().WithAdapter(client.Redis(rdb, client.OwnClient())).WithService("loadtest-check").
		WithTimeout(checkOpTimeout).Build()
	if err != nil {
		_ = rdb.Close()
		p.Close()
		srv.Close()
		return nil, err
	}
	near, err := nearcache.New(st, nearcache.Options{Redis: &redis.Options{Addr: p.Addr, PoolSize: c.concurrency,
		ContextTimeoutEnabled: true}})
	if err != nil {
		_ = st.Close()
		p.Close()
		srv.Close()
		return nil, err
	}
	return &checkTarget{
		Target: history.Target{Store: st, Proxy: p, Server: procServer{srv}, Delayer: delay},
		faults: faults,
		round:  c.round,
		srv:    srv,
		near:   near,
		desc:   fmt.Sprintf("redis-server %s (started for this run, pid %d, %s) behind a fault proxy at %s", srv.Addr, srv.PID(), desc, p.Addr),
	}, nil
}

// openReplicatedTarget starts a cluster (3 primaries, one replica each) or a Sentinel set-up
// (a primary, a replica, 3 sentinels), with failureDetection, and the store on the set-up's own
// go-redis client (ClusterClient, failover client), retries off.
func openReplicatedTarget(c config, backend string, faults []history.Fault) (*checkTarget, error) {
	prog := &redistest.Program{}
	t := &checkTarget{backend: backend, faults: faults, round: max(c.round, failoverRound), prog: prog}
	var rdb redis.UniversalClient
	err := prog.Do(func() {
		if backend == "cluster" {
			cl := redistest.StartClusterWith(prog, redistest.ClusterOptions{ReplicasPerPrimary: 1, NodeTimeout: failureDetection})
			rdb = redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs, MaxRetries: -1, ContextTimeoutEnabled: true,
				PoolSize: c.concurrency + 4})
			t.Replicated = setUp{prog: prog, failover: cl.Failover, kill: cl.KillPrimary, primaries: cl.PrimaryAddrs}
			t.desc = fmt.Sprintf("a Redis Cluster started for this run: 3 primaries with a replica each (%s), cluster-node-timeout %v",
				strings.Join(cl.Addrs, " "), failureDetection)
			return
		}
		s := redistest.StartSentinel(prog, redistest.SentinelOptions{DownAfter: failureDetection})
		rdb = redis.NewFailoverClient(&redis.FailoverOptions{MasterName: redistest.SentinelMaster, SentinelAddrs: s.SentinelAddrs,
			MaxRetries: -1, ContextTimeoutEnabled: true, PoolSize: c.concurrency + 4})
		t.Replicated = setUp{prog: prog, failover: s.Failover, kill: s.KillPrimary, primaries: s.PrimaryAddrs}
		t.desc = fmt.Sprintf("a Sentinel set-up started for this run: primary %s, replica %s, sentinels %s, down-after %v",
			s.Primary.Addr, s.Replicas[0].Addr, strings.Join(s.SentinelAddrs, " "), failureDetection)
	})
	if err != nil {
		prog.Close()
		if errors.Is(err, redistest.ErrSkipped) {
			return nil, fmt.Errorf("-faults %s-…: %w", backend, err)
		}
		return nil, err
	}
	st, err := client.New().WithAdapter(client.Redis(rdb, client.OwnClient())).WithService("loadtest-check").
		WithTimeout(failoverOpTimeout).Build()
	if err != nil {
		_ = rdb.Close()
		prog.Close()
		return nil, err
	}
	t.Store = st
	return t, nil
}

// setUp is a redistest cluster or Sentinel set-up as a history.Replicated; each call runs under
// prog, so a set-up's failure (a node that does not restart) is an error.
type setUp struct {
	prog      *redistest.Program
	failover  func(context.Context, string) (redistest.Handover, error)
	kill      func(context.Context, string, time.Duration) (redistest.Handover, error)
	primaries func(context.Context) ([]string, error)
}

func (s setUp) Failover(ctx context.Context, key string) (history.Handover, error) {
	return s.run(func() (redistest.Handover, error) { return s.failover(ctx, key) })
}

func (s setUp) KillPrimary(ctx context.Context, key string) (history.Handover, error) {
	return s.run(func() (redistest.Handover, error) { return s.kill(ctx, key, 0) })
}

func (s setUp) Primaries(ctx context.Context) (p []string, err error) {
	if perr := s.prog.Do(func() { p, err = s.primaries(ctx) }); perr != nil {
		return nil, perr
	}
	return p, err
}

// run runs a failover under prog and maps its handover: acknowledged writes may be lost from
// its sync point (none for a coordinated handover, which reports none).
func (s setUp) run(f func() (redistest.Handover, error)) (history.Handover, error) {
	var h redistest.Handover
	var err error
	if perr := s.prog.Do(func() { h, err = f() }); perr != nil {
		err = errors.Join(err, perr)
	}
	return history.Handover{MayLoseFrom: h.Synced, Done: h.Done, Killed: h.Killed, From: h.From, To: h.To}, err
}

func (t *checkTarget) close() {
	if t.near != nil {
		_ = t.near.Close()
	}
	_ = t.Store.Close()
	if t.Proxy != nil {
		t.Proxy.Close()
	}
	if t.srv != nil {
		t.srv.Close()
	}
	if t.prog != nil {
		t.prog.Close()
	}
}

// openCheckTargets opens a target for each backend -faults names.
func openCheckTargets(c config) ([]*checkTarget, error) {
	byBackend := faultsByBackend(c.faults)
	var targets []*checkTarget
	for _, b := range append([]string{""}, replicatedBackends...) {
		faults := byBackend[b]
		if len(faults) == 0 {
			continue
		}
		var t *checkTarget
		var err error
		if b == "" {
			t, err = openCheckTarget(c, faults)
		} else {
			t, err = openReplicatedTarget(c, b, faults)
		}
		if err != nil {
			for _, o := range targets {
				o.close()
			}
			return nil, err
		}
		targets = append(targets, t)
	}
	return targets, nil
}

// runCheck runs -scenario check: rounds of -round (at least failoverRound on a cluster or under
// Sentinel), each one cell (model) of -cells on one target in turn, its clients' operations
// recorded under the target's -faults and the history checked, until -duration. Each round's
// offending operations are printed as soon as it is checked. It returns the summary (partial
// when ctx ended the run) and an error when the run could not go on (a server that did not
// restart, a set-up that failed over by itself).
func runCheck(ctx context.Context, c config, out io.Writer) (*checkSummary, error) {
	seed := c.seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	targets, err := openCheckTargets(c)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, t := range targets {
			t.close()
		}
	}()
	fmt.Fprintf(out, "igniter store loadtest: scenario check: record histories of %s under %s, check each round with porcupine\n",
		join(c.checkCell), join(c.faults))
	cells := make([][]string, len(targets)) // the cells of -cells each target runs
	for i, t := range targets {
		for _, name := range c.checkCell {
			if _, ok := t.cell(name); ok {
				cells[i] = append(cells[i], name)
			}
		}
		if len(cells[i]) == 0 {
			return nil, fmt.Errorf("-cells %s: none runs on the %s (it runs %s)", join(c.checkCell), t.backend, join(replicatedCells))
		}
		fmt.Fprintf(out, "target: %s\n  faults %s, cells %s, rounds of %s\n", t.desc, faultList(t.faults), join(cells[i]), t.round)
	}
	fmt.Fprintf(out, "for %s, %d clients, seed %d\n", c.duration, c.concurrency, seed)
	s := &checkSummary{seed: seed, cfg: c, faults: map[history.Fault]int{}, cells: map[string]*cellTally{}}
	rng := rand.New(rand.NewPCG(seed, 0))
	first := rng.IntN(len(c.checkCell))
	began := time.Now()
	for i := 0; ; i++ {
		left := c.duration - time.Since(began)
		if left <= 0 || ctx.Err() != nil {
			break
		}
		t, runs := targets[i%len(targets)], cells[i%len(targets)]
		name := runs[(first+i/len(targets))%len(runs)]
		cell, _ := t.cell(name)
		o := history.RoundOptions{Seed: rng.Uint64(), Duration: min(t.round, left), Clients: c.concurrency,
			Faults: t.faults, Prefix: fmt.Sprintf("{check:%d:%d}:", seed%1000, i)}
		if t.backend != "" {
			// Paced, so that the clients run the whole round (through the failover and after
			// it) within a history porcupine checks in moments.
			o.Pace, o.PerClient = failoverPace, failoverPerClient
		}
		r := history.RunRound(ctx, t.Target, cell, o)
		if ctx.Err() != nil {
			break // an interrupted round's check proves nothing: it is left out
		}
		r.Cell = t.label(name)
		s.add(r)
		fmt.Fprintln(out, roundLine(i, r))
		if r.Verdict != porcupine.Ok {
			fmt.Fprint(out, indent(r.Report))
		}
		if r.Err != nil {
			s.elapsed = time.Since(began)
			return s, r.Err
		}
	}
	s.elapsed = time.Since(began)
	s.partial = ctx.Err() != nil
	return s, nil
}

// faultList joins fault kinds with commas.
func faultList(faults []history.Fault) string {
	names := make([]string, len(faults))
	for i, f := range faults {
		names[i] = string(f)
	}
	return join(names)
}
