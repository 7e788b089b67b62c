package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/igniter-go/store/ops"
)

// stepFunc runs one operation; it returns the operation's name for the report.
type stepFunc func(ctx context.Context, rng *rand.Rand) (string, error)

// opStats are one operation's measurements.
type opStats struct {
	latencies []time.Duration
	errors    map[string]int // by STORE_* code
}

// results are a run's measurements.
type results struct {
	elapsed time.Duration
	ops     map[string]*opStats
}

func (r *results) total() int {
	n := 0
	for _, s := range r.ops {
		n += len(s.latencies)
	}
	return n
}

// drive runs step in cfg.concurrency closed loops: a warm-up, then cfg.duration measured.
func drive(ctx context.Context, cfg config, step stepFunc) *results {
	var wg sync.WaitGroup
	perWorker := make([]map[string]*opStats, cfg.concurrency)
	start := time.Now()
	measureFrom := start.Add(cfg.warmup)
	deadline := measureFrom.Add(cfg.duration)
	for i := range cfg.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), uint64(start.UnixNano())))
			stats := map[string]*opStats{}
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(deadline) {
					break
				}
				name, err := step(ctx, rng)
				d := time.Since(t0)
				if t0.Before(measureFrom) {
					continue
				}
				s := stats[name]
				if s == nil {
					s = &opStats{errors: map[string]int{}}
					stats[name] = s
				}
				if err != nil {
					code := string(ops.CodeOf(err))
					if code == "" {
						code = err.Error()
					}
					s.errors[code]++
					continue
				}
				s.latencies = append(s.latencies, d)
			}
			perWorker[i] = stats
		}()
	}
	wg.Wait()
	res := &results{elapsed: min(time.Since(measureFrom), cfg.duration), ops: map[string]*opStats{}}
	for _, stats := range perWorker {
		for name, s := range stats {
			m := res.ops[name]
			if m == nil {
				m = &opStats{errors: map[string]int{}}
				res.ops[name] = m
			}
			m.latencies = append(m.latencies, s.latencies...)
			for c, n := range s.errors {
				m.errors[c] += n
			}
		}
	}
	return res
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}

func (r *results) print(out io.Writer) {
	names := make([]string, 0, len(r.ops))
	for n := range r.ops {
		names = append(names, n)
	}
	sort.Strings(names)
	secs := r.elapsed.Seconds()
	fmt.Fprintf(out, "\n%-10s %10s %12s %10s %10s %10s %8s\n", "op", "count", "ops/s", "p50", "p99", "p99.9", "errors")
	var all []time.Duration
	errs := 0
	for _, n := range names {
		s := r.ops[n]
		slices.Sort(s.latencies)
		e := 0
		for _, c := range s.errors {
			e += c
		}
		errs += e
		all = append(all, s.latencies...)
		fmt.Fprintf(out, "%-10s %10d %12.0f %10s %10s %10s %8d\n", n, len(s.latencies), float64(len(s.latencies))/secs,
			fmtDur(percentile(s.latencies, 0.50)), fmtDur(percentile(s.latencies, 0.99)), fmtDur(percentile(s.latencies, 0.999)), e)
		for c, k := range s.errors {
			fmt.Fprintf(out, "           error %s: %d\n", c, k)
		}
	}
	slices.Sort(all)
	fmt.Fprintf(out, "%-10s %10d %12.0f %10s %10s %10s %8d\n", "all", len(all), float64(len(all))/secs,
		fmtDur(percentile(all, 0.50)), fmtDur(percentile(all, 0.99)), fmtDur(percentile(all, 0.999)), errs)
}

func fmtDur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.1fµs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	}
	return d.Round(time.Millisecond).String()
}
