package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
)

// config is the run's settings; flags fill it.
type config struct {
	redisAddr   string
	duration    time.Duration
	warmup      time.Duration
	concurrency int
	keys        int
	reads       float64
	valueSize   int
}

func main() {
	var cfg config
	flag.StringVar(&cfg.redisAddr, "redis", "", "Redis address host:port; empty starts an embedded Redis (miniredis)")
	flag.DurationVar(&cfg.duration, "duration", 5*time.Second, "how long to measure")
	flag.DurationVar(&cfg.warmup, "warmup", 500*time.Millisecond, "how long to run before measuring")
	flag.IntVar(&cfg.concurrency, "concurrency", 32, "concurrent workers (each has one call in flight)")
	flag.IntVar(&cfg.keys, "keys", 10_000, "distinct keys")
	flag.Float64Var(&cfg.reads, "reads", 0.8, "fraction of operations that are reads (KV.Get); the rest are KV.Set")
	flag.IntVar(&cfg.valueSize, "value-size", 128, "approximate size in bytes of each JSON value")
	flag.Parse()
	if err := run(cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

func run(cfg config, out io.Writer) error {
	if err := cfg.check(); err != nil {
		return err
	}
	if chaos.on { // -chaos: chaos.go
		return runChaos(cfg, chaos, out)
	}
	addr, target := cfg.redisAddr, "redis "+cfg.redisAddr
	if addr == "" {
		mr, err := miniredis.Run()
		if err != nil {
			return fmt.Errorf("embedded redis: %w", err)
		}
		defer mr.Close()
		addr, target = mr.Addr(), "embedded miniredis (in-process; use -redis for a real server)"
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, PoolSize: cfg.concurrency + 4})
	st, err := client.New().WithService("loadtest").WithAdapter(client.Redis(rdb, client.OwnClient())).Build()
	if err != nil {
		return err
	}
	defer st.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis at %s: %w", addr, err)
	}
	fmt.Fprintf(out, "igniter store loadtest: %s\n", target)
	fmt.Fprintf(out, "workload: closed loop, %d workers, %.0f%% KV.Get / %.0f%% KV.Set, %d keys, ~%d B values, %s (+%s warm-up)\n",
		cfg.concurrency, cfg.reads*100, (1-cfg.reads)*100, cfg.keys, cfg.valueSize, cfg.duration, cfg.warmup)
	w := newKVWorkload(st.MustScope("tenant", "load"), cfg)
	if err := w.seed(ctx); err != nil {
		return err
	}
	res := drive(ctx, cfg, w.step)
	res.print(out)
	if res.total() == 0 {
		return fmt.Errorf("no operation completed")
	}
	return nil
}

func (c config) check() error {
	switch {
	case c.duration <= 0:
		return fmt.Errorf("-duration must be positive")
	case c.concurrency <= 0:
		return fmt.Errorf("-concurrency must be positive")
	case c.keys <= 0:
		return fmt.Errorf("-keys must be positive")
	case c.reads < 0 || c.reads > 1:
		return fmt.Errorf("-reads must be between 0 and 1")
	case c.valueSize < 0:
		return fmt.Errorf("-value-size must not be negative")
	}
	return nil
}
