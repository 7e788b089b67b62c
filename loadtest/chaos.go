package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/middleware/breaker"
	"github.com/igniter-go/store/ops"
)

// chaosConfig is the -chaos mode's settings.
type chaosConfig struct {
	on   bool
	down time.Duration
}

// chaos holds the -chaos flags; run hands over to runChaos when it is on.
var chaos chaosConfig

func init() {
	flag.BoolVar(&chaos.on, "chaos", false,
		"start a redis-server of its own, SIGKILL it a quarter into the measured run, restart it on the same port "+
			"-chaos-down later, and report errors, fast-fails (open-breaker rejections) and recovery time")
	flag.DurationVar(&chaos.down, "chaos-down", 2*time.Second, "how long the server stays down in -chaos mode")
}

// runChaos runs the workload against a redis-server it starts, kills (SIGKILL) at a quarter of
// the measured run and restarts on the same port cc.down later, with the store's default
// resilience (retry, breaker, timeout). Persistence is off: the restarted server is empty, so
// reads after it miss, which the store reports as successes.
func runChaos(cfg config, cc chaosConfig, out io.Writer) error {
	if err := cfg.check(); err != nil {
		return err
	}
	if cfg.redisAddr != "" {
		return errors.New("-chaos starts and kills a redis-server of its own; leave -redis out")
	}
	if cc.down <= 0 {
		return errors.New("-chaos-down must be positive")
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return fmt.Errorf("-chaos needs redis-server on the PATH (apt-get install -y redis-server): %w", err)
	}
	srv, err := newChaosServer(bin)
	if err != nil {
		return err
	}
	defer srv.close()
	if err := srv.start(); err != nil {
		return err
	}

	tally := &chaosTally{}
	rdb := redis.NewClient(&redis.Options{Addr: srv.addr, MaxRetries: -1, PoolSize: cfg.concurrency + 4})
	st, err := client.New().WithService("loadtest").WithAdapter(client.Redis(rdb, client.OwnClient())).
		WithObserver(tally).Build()
	if err != nil {
		return err
	}
	defer st.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	fmt.Fprintf(out, "igniter store loadtest -chaos: redis-server %s (its own, no persistence), down for %s\n", srv.addr, cc.down)
	fmt.Fprintf(out, "workload: closed loop, %d workers, %.0f%% KV.Get / %.0f%% KV.Set, %d keys, ~%d B values, %s (+%s warm-up)\n",
		cfg.concurrency, cfg.reads*100, (1-cfg.reads)*100, cfg.keys, cfg.valueSize, cfg.duration, cfg.warmup)
	w := newKVWorkload(st.MustScope("tenant", "load"), cfg)
	if err := w.seed(ctx); err != nil {
		return err
	}

	start := time.Now()
	chaosDone := make(chan error, 1)
	go func() { chaosDone <- srv.chaos(ctx, tally, start.Add(cfg.warmup+cfg.duration/4), cc.down) }()
	res := drive(ctx, cfg, func(ctx context.Context, rng *rand.Rand) (string, error) {
		t0 := time.Now()
		name, err := w.step(ctx, rng)
		tally.record(t0, err)
		return name, err
	})
	if err := <-chaosDone; err != nil {
		return err
	}
	res.print(out)
	tally.print(out)
	if res.total() == 0 {
		return fmt.Errorf("no operation completed")
	}
	return nil
}

// chaosTally counts the outcomes around the outage and records the breaker's transitions.
type chaosTally struct {
	mu          sync.Mutex
	killed      time.Time
	ready       time.Time
	fastFails   []time.Duration // open-breaker rejections
	waited      []time.Duration // unavailable errors: calls that went to the dead server
	other       map[string]int  // other errors by code
	okDuring    int             // successes between the kill and the restart (none expected)
	firstOK     time.Time       // the first success after the restart
	transitions []string
}

// Observe records breaker transitions (the tally is the store's observer).
func (c *chaosTally) Observe(_ context.Context, s ops.Signal) {
	if s.Kind != ops.SignalBreakerState {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	at := "before the kill"
	if !c.killed.IsZero() {
		at = "kill+" + fmtDur(time.Since(c.killed))
	}
	c.transitions = append(c.transitions, fmt.Sprintf("%s→%s at %s", s.From, s.To, at))
}

func (c *chaosTally) record(t0 time.Time, err error) {
	d := time.Since(t0)
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case err == nil:
		if !c.ready.IsZero() && c.firstOK.IsZero() {
			c.firstOK = time.Now()
		} else if !c.killed.IsZero() && c.ready.IsZero() {
			c.okDuring++
		}
	case errors.Is(err, breaker.ErrOpen):
		c.fastFails = append(c.fastFails, d)
	case errors.Is(err, ops.ErrUnavailable):
		c.waited = append(c.waited, d)
	default:
		if c.other == nil {
			c.other = map[string]int{}
		}
		c.other[string(ops.CodeOf(err))]++
	}
}

func (c *chaosTally) print(out io.Writer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(out, "\nchaos: redis-server SIGKILLed, restarted %s later (ready to accept connections)\n", fmtDur(c.ready.Sub(c.killed)))
	for _, t := range c.transitions {
		fmt.Fprintf(out, "  breaker %s\n", t)
	}
	slices.Sort(c.fastFails)
	slices.Sort(c.waited)
	fmt.Fprintf(out, "  fast-fails (STORE_CIRCUIT_OPEN): %d, p50 %s, p99 %s\n", len(c.fastFails),
		fmtDur(percentile(c.fastFails, 0.5)), fmtDur(percentile(c.fastFails, 0.99)))
	fmt.Fprintf(out, "  unavailable errors (sent to the dead server): %d, p50 %s, max %s\n", len(c.waited),
		fmtDur(percentile(c.waited, 0.5)), fmtDur(percentile(c.waited, 1)))
	for code, n := range c.other {
		fmt.Fprintf(out, "  other errors %s: %d\n", code, n)
	}
	if c.okDuring > 0 {
		fmt.Fprintf(out, "  successes while the server was down: %d\n", c.okDuring)
	}
	if c.firstOK.IsZero() {
		fmt.Fprintf(out, "  recovery: no success after the restart within the run (make -duration longer)\n")
		return
	}
	fmt.Fprintf(out, "  recovery: first success %s after the server accepted connections\n", fmtDur(c.firstOK.Sub(c.ready)))
}

// chaosServer is the redis-server process -chaos starts, kills and restarts.
type chaosServer struct {
	bin, dir, addr string
	port           int
	cmd            *exec.Cmd
	done           chan struct{}
}

func newChaosServer(bin string) (*chaosServer, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	dir, err := os.MkdirTemp("", "igniter-chaos-")
	if err != nil {
		return nil, err
	}
	return &chaosServer{bin: bin, dir: dir, port: port, addr: "127.0.0.1:" + strconv.Itoa(port)}, nil
}

// start runs redis-server and waits until it accepts connections.
func (s *chaosServer) start() error {
	cmd := exec.Command(s.bin, "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--daemonize", "no", "--dir", s.dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	ready, done := make(chan struct{}), make(chan struct{})
	var log strings.Builder
	go func() {
		sc := bufio.NewScanner(stdout)
		signalled := false
		for sc.Scan() {
			if !signalled {
				log.WriteString(sc.Text() + "\n")
				if strings.Contains(sc.Text(), "Ready to accept connections") {
					signalled = true
					close(ready)
				}
			}
		}
		_ = cmd.Wait()
		close(done)
	}()
	select {
	case <-ready:
		s.cmd, s.done = cmd, done
		return nil
	case <-done:
		return fmt.Errorf("redis-server exited before it was ready:\n%s", log.String())
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		return errors.New("redis-server not ready after 30s")
	}
}

// kill stops the server with SIGKILL and waits for it to exit.
func (s *chaosServer) kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

func (s *chaosServer) close() {
	s.kill()
	_ = os.RemoveAll(s.dir)
}

// chaos kills the server at killAt and restarts it down later, recording both moments.
func (s *chaosServer) chaos(ctx context.Context, tally *chaosTally, killAt time.Time, down time.Duration) error {
	if !sleepUntil(ctx, killAt) {
		return nil
	}
	tally.mu.Lock()
	tally.killed = time.Now()
	tally.mu.Unlock()
	s.kill()
	if !sleepUntil(ctx, time.Now().Add(down)) {
		return nil
	}
	if err := s.start(); err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	tally.mu.Lock()
	tally.ready = time.Now()
	tally.mu.Unlock()
	return nil
}

func sleepUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}
