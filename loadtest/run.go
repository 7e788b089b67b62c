package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/igniter-go/store/loadtest/internal/drive"
	"github.com/igniter-go/store/loadtest/internal/hist"
	"github.com/igniter-go/store/loadtest/internal/report"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/telemetry/opsprom"
)

// shards is how many histogram shards a run records into: enough that workers rarely share a
// lock, few enough that memory stays small (see hist.Set).
const shards = 8

// background are the operations recorded by the scenario's own loops (subscribers, consumers),
// not by the workers: they are not counted as driven operations for CPU per op.
var background = map[string]bool{"events.deliver": true, "streams.consume": true}

// run runs the configured load and returns its report (partial when ctx ended it early). It
// stops everything it started before it returns. Status lines go to out; the progress line to
// progressOut.
func run(ctx context.Context, c config, out io.Writer, progressOut *os.File) (*report.Report, error) {
	tgt, err := openTarget(c)
	if err != nil {
		return nil, err
	}
	defer tgt.close()

	var metrics *opsprom.Metrics
	if c.metricsAddr != "" {
		metrics = opsprom.New()
		ms, err := serveMetrics(c.metricsAddr, metrics)
		if err != nil {
			return nil, fmt.Errorf("-metrics-addr: %w", err)
		}
		defer ms.close()
		fmt.Fprintf(out, "metrics: http://%s/metrics\n", ms.addr)
	}
	var tally *chaosTally
	var observers []ops.Observer
	if c.chaos {
		tally = newChaosTally()
		observers = append(observers, tally)
	}
	sts, err := buildStore(c, tgt, metrics, observers...)
	if err != nil {
		return nil, err
	}
	defer sts.root.Close()

	e := &env{cfg: c, st: sts, set: hist.NewSet(shards), nearAddr: tgt.nearCacheAddr()}
	e.set.KeepApart(slices.Sorted(maps.Keys(background))...)
	if c.compare {
		return runCompare(ctx, e, tgt, out)
	}
	sc := newScenario(e)
	workers := c.concurrency
	if c.scenario == "events" {
		workers = c.publishers
	}
	r := &report.Report{Scenario: c.scenario, Description: sc.desc, Target: tgt.info, Machine: report.ThisMachine(),
		Loop: loopDesc(c, workers), Started: time.Now().UTC().Truncate(time.Second), Settings: settingsOf(c)}
	fmt.Fprintf(out, "igniter store loadtest: scenario %s: %s\ntarget: %s\nloop: %s, %s measured after %s warm-up, %d tenant(s)\n",
		c.scenario, sc.desc, tgt.desc, r.Loop, durOrOps(c), c.warmup, c.tenants)

	var started []part
	stopParts := func() {
		for _, p := range started {
			p.stop()
		}
		started = nil
	}
	defer stopParts()
	for _, p := range sc.parts {
		if err := p.setup(ctx, e); err != nil {
			if ctx.Err() != nil {
				return nil, errors.New("interrupted before measuring began")
			}
			return nil, err
		}
		started = append(started, p)
	}

	step := sc.step
	var chaosWG sync.WaitGroup
	chaosCtx, stopChaos := context.WithCancel(ctx)
	defer func() { stopChaos(); chaosWG.Wait() }()
	if tally != nil {
		fmt.Fprintf(out, "chaos: SIGKILL the server %s into the measured run, restart it %s later\n", c.duration/4, c.chaosDown)
		chaosWG.Add(1)
		go func() {
			defer chaosWG.Done()
			tally.run(chaosCtx, tgt.server, time.Now().Add(c.warmup+c.duration/4), c.chaosDown)
		}()
		inner := step
		step = func(ctx context.Context, w *drive.Worker) (string, error) {
			t0 := time.Now()
			op, err := inner(ctx, w)
			if ctx.Err() == nil {
				tally.record(t0, err)
			}
			return op, err
		}
	}

	prog := newProgress(c.progress, progressOut)
	var cpu0 time.Duration
	res := drive.Run(ctx, drive.Options{
		Workers: workers, Rate: c.rate, Warmup: c.warmup, Duration: c.duration, Ops: c.ops, Code: codeOf,
		OnMeasure: func() {
			e.measureFrom.Store(time.Now().UnixNano())
			cpu0 = cpuTime()
			fmt.Fprintln(out, "measuring…")
		},
		OnTick: func(at time.Duration) {
			for _, p := range sc.parts {
				if s, ok := p.(*streamsPart); ok {
					s.sample()
				}
			}
			if series := e.set.Series(); len(series) > 0 {
				prog.tick(at, c.duration, series[len(series)-1])
			}
		},
	}, e.set, step)
	cpu := cpuTime() - cpu0
	e.stopped.Store(true)
	prog.done()
	stopChaos()
	chaosWG.Wait()
	stopParts()

	r.Elapsed = res.Elapsed
	r.Ops, r.All = e.set.Summaries(res.Elapsed)
	r.Background = backgroundOps(r.Ops)
	r.Series = e.set.Series()
	r.Late = res.Late
	if res.Interrupted {
		r.Partial, r.Reason = true, "interrupted by a signal"
	}
	if driven := drivenOps(r.Ops); driven > 0 && cpu0 > 0 {
		r.CPUPerOp = cpu / time.Duration(driven)
		r.CPUNote = cpuNote(c)
	}
	for _, p := range sc.parts {
		r.Notes = append(r.Notes, p.notes(e, max(res.Elapsed, time.Millisecond))...)
	}
	if tally != nil {
		r.Notes = append(r.Notes, tally.notes()...)
	}
	if r.All.Count == 0 && !r.Partial {
		return r, errors.New("no operation completed")
	}
	return r, nil
}

// backgroundOps lists the operations of ops that background loops recorded.
func backgroundOps(ops []hist.Summary) []string {
	var names []string
	for _, s := range ops {
		if background[s.Op] {
			names = append(names, s.Op)
		}
	}
	return names
}

// drivenOps counts the operations the workers ran (successes and errors).
func drivenOps(ops []hist.Summary) int64 {
	var n int64
	for _, s := range ops {
		if !background[s.Op] {
			n += s.Count + s.ErrorCount()
		}
	}
	return n
}

func cpuNote(c config) string {
	if c.redisAddr == "" && len(c.clusterAddrs) == 0 && !c.startRedis && !c.chaos {
		return "user+system time of this process, which includes the embedded miniredis server"
	}
	return "user+system time of this process: workers, store, go-redis"
}

// codeOf names an error for the error counts: its STORE_* code, or its text for an uncoded one
// (plain go-redis in -compare).
func codeOf(err error) string {
	if code := ops.CodeOf(err); code != "" {
		return string(code)
	}
	s := err.Error()
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return s
}

func loopDesc(c config, workers int) string {
	if c.rate > 0 {
		return fmt.Sprintf("open loop at %.0f ops/s over %d workers", c.rate, workers)
	}
	return fmt.Sprintf("closed loop, %d workers", workers)
}

func durOrOps(c config) string {
	if c.ops > 0 {
		return fmt.Sprintf("%d ops (at most %s)", c.ops, c.duration)
	}
	return c.duration.String()
}

// settingsOf lists the run's settings for the report.
func settingsOf(c config) []report.Setting {
	s := []report.Setting{
		{Name: "duration", Value: c.duration.String()}, {Name: "warmup", Value: c.warmup.String()},
		{Name: "concurrency", Value: itoa(c.concurrency)}, {Name: "tenants", Value: itoa(c.tenants)},
	}
	add := func(n, v string) { s = append(s, report.Setting{Name: n, Value: v}) }
	if c.rate > 0 {
		add("rate", fmt.Sprintf("%.0f ops/s", c.rate))
	}
	if c.ops > 0 {
		add("ops", fmt.Sprint(c.ops))
	}
	switch c.scenario {
	case "kv", "mixed":
		add("keys", itoa(c.keys))
		add("reads", fmt.Sprint(c.reads))
		add("value-size", itoa(c.valueSize))
		add("dist", c.dist)
	}
	switch c.scenario {
	case "counter", "mixed":
		add("limit", fmt.Sprintf("%d per user per second, bursts of %d (GCRA)", c.limit, c.limit))
		add("users", fmt.Sprintf("%d per tenant, Zipf s=1.1", c.users))
	}
	switch c.scenario {
	case "claim", "mixed":
		add("claim-keys", itoa(c.claimKeys))
	}
	switch c.scenario {
	case "events", "mixed":
		add("publishers", itoa(c.publishers))
		add("subscribers", fmt.Sprintf("%d per tenant", c.subscribers))
	}
	switch c.scenario {
	case "streams", "mixed":
		add("consumers", fmt.Sprintf("%d per tenant", c.consumers))
	}
	if c.chaos {
		add("chaos", "SIGKILL at duration/4, down "+c.chaosDown.String())
	}
	if c.compare {
		add("compare", "plain go-redis vs the store, interleaved")
	}
	add("go-redis", "MaxRetries -1, PoolSize concurrency+16")
	return s
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
