package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/faultproxy"
	"github.com/igniter-go/store/internal/history"
	"github.com/igniter-go/store/loadtest/internal/redisproc"
	"github.com/igniter-go/store/nearcache"
)

// checkCellNames lists -cells' values: the models of internal/history.
var checkCellNames = []string{"kv", "counter", "lease", "stream", "nearcache"}

func (t *checkTarget) cell(name string) history.Cell {
	switch name {
	case "nearcache":
		return history.NearKVCell(t.near)
	case "counter":
		return history.CounterCell()
	case "lease":
		return history.LeaseCell()
	case "stream":
		return history.StreamCell()
	}
	return history.KVCell()
}

// checkFaultNames lists -faults' values.
func checkFaultNames() []string {
	names := make([]string, len(history.AllFaults))
	for i, f := range history.AllFaults {
		names[i] = string(f)
	}
	return names
}

// checkOpTimeout is each operation's deadline in -scenario check: short, so frozen servers and
// delayed replies make operations of unknown outcome, not just slow ones.
const checkOpTimeout = 250 * time.Millisecond

// checkTarget is -scenario check's redis-server, the fault proxy in front of it and the store.
type checkTarget struct {
	history.Target
	srv  *redisproc.Server
	near *nearcache.Near // the nearcache cell's, on the store, its own client through the proxy
	desc string
}

// procServer is the harness's redis-server as the history package restarts and freezes it.
type procServer struct{ *redisproc.Server }

func (s procServer) Restart() error { return s.KillAndRestart() }

// openCheckTarget starts a redis-server (with the AOF fsynced before every reply when the run
// restarts it, so a plain restart loses nothing acknowledged), a fault proxy, and the store on a
// go-redis client through the proxy, retries off, replies delayable.
func openCheckTarget(c config) (*checkTarget, error) {
	var persist []string
	desc := "no persistence"
	if slices.Contains(c.faults, string(history.Restart)) {
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
		srv:    srv,
		near:   near,
		desc:   fmt.Sprintf("redis-server %s (started for this run, pid %d, %s) behind a fault proxy at %s", srv.Addr, srv.PID(), desc, p.Addr),
	}, nil
}

func (t *checkTarget) close() {
	_ = t.near.Close()
	_ = t.Store.Close()
	t.Proxy.Close()
	t.srv.Close()
}

// runCheck runs -scenario check: rounds of -round, each one cell (model) chosen from -cells
// in turn, its clients' operations recorded under the -faults and the history checked, until
// -duration. Each round's offending operations are printed as soon as it is checked. It
// returns the summary (partial when ctx ended the run) and an error when the run could not go
// on (a server that did not restart).
func runCheck(ctx context.Context, c config, out io.Writer) (*checkSummary, error) {
	seed := c.seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	tgt, err := openCheckTarget(c)
	if err != nil {
		return nil, err
	}
	defer tgt.close()
	faults := make([]history.Fault, len(c.faults))
	for i, f := range c.faults {
		faults[i] = history.Fault(f)
	}
	fmt.Fprintf(out, "igniter store loadtest: scenario check: record histories of %s under %s, check each round with porcupine\ntarget: %s\nrounds of %s for %s, %d clients, seed %d\n",
		join(c.checkCell), join(c.faults), tgt.desc, c.round, c.duration, c.concurrency, seed)
	s := &checkSummary{seed: seed, cfg: c, faults: map[history.Fault]int{}, cells: map[string]*cellTally{}}
	rng := rand.New(rand.NewPCG(seed, 0))
	first := rng.IntN(len(c.checkCell))
	began := time.Now()
	for i := 0; ; i++ {
		left := c.duration - time.Since(began)
		if left <= 0 || ctx.Err() != nil {
			break
		}
		name := c.checkCell[(first+i)%len(c.checkCell)]
		o := history.RoundOptions{Seed: rng.Uint64(), Duration: min(c.round, left), Clients: c.concurrency,
			Faults: faults, Prefix: fmt.Sprintf("check:%d:%d:", seed%1000, i)}
		r := history.RunRound(ctx, tgt.Target, tgt.cell(name), o)
		if ctx.Err() != nil {
			break // an interrupted round's check proves nothing: it is left out
		}
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
