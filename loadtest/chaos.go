package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/igniter-go/store/internal/pause"
	"github.com/igniter-go/store/loadtest/internal/hist"
	"github.com/igniter-go/store/loadtest/internal/redisproc"
	"github.com/igniter-go/store/loadtest/internal/report"
	"github.com/igniter-go/store/middleware/breaker"
	"github.com/igniter-go/store/ops"
)

// chaosTally counts outcomes around a -chaos outage and records the breaker's transitions; it
// is the store's observer for the breaker signals.
type chaosTally struct {
	mu          sync.Mutex
	killed      time.Time
	ready       time.Time
	restartErr  error
	fastFails   *hdr.Histogram // open-breaker rejections
	waited      *hdr.Histogram // unavailable errors: calls that went to the dead server
	other       map[string]int64
	okDuring    int64     // successes between the kill and the restart
	firstOK     time.Time // the first success after the restart
	transitions []string
	opened      int
}

func newChaosTally() *chaosTally {
	return &chaosTally{fastFails: hist.New(), waited: hist.New(), other: map[string]int64{}}
}

// Observe records breaker transitions.
func (c *chaosTally) Observe(_ context.Context, s ops.Signal) {
	if s.Kind != ops.SignalBreakerState {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	at := "before the kill"
	if !c.killed.IsZero() {
		at = "kill+" + report.Dur(time.Since(c.killed))
	}
	if s.To == "open" {
		c.opened++
	}
	if len(c.transitions) < 50 {
		c.transitions = append(c.transitions, fmt.Sprintf("%s→%s at %s", s.From, s.To, at))
	}
}

func (c *chaosTally) record(t0 time.Time, err error) {
	d := int64(time.Since(t0))
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
		_ = c.fastFails.RecordValue(min(max(d, hist.Lowest), hist.Highest))
	case errors.Is(err, ops.ErrUnavailable):
		_ = c.waited.RecordValue(min(max(d, hist.Lowest), hist.Highest))
	default:
		c.other[codeOf(err)]++
	}
}

// run kills srv at killAt and restarts it down later; it returns early when ctx ends.
func (c *chaosTally) run(ctx context.Context, srv *redisproc.Server, killAt time.Time, down time.Duration) {
	if !sleepUntil(ctx, killAt) {
		return
	}
	c.mu.Lock()
	c.killed = time.Now()
	c.mu.Unlock()
	srv.Kill()
	if !sleepUntil(ctx, time.Now().Add(down)) {
		return
	}
	err := srv.Restart()
	c.mu.Lock()
	c.ready, c.restartErr = time.Now(), err
	c.mu.Unlock()
}

func (c *chaosTally) notes() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.killed.IsZero() {
		return []string{"chaos: the run ended before the kill (make -duration longer)"}
	}
	var out []string
	add := func(f string, a ...any) { out = append(out, fmt.Sprintf(f, a...)) }
	if c.ready.IsZero() {
		add("chaos: redis-server SIGKILLed; the run ended before the restart")
	} else {
		add("chaos: redis-server SIGKILLed, restarted %s later (ready to accept connections)", report.Dur(c.ready.Sub(c.killed)))
	}
	if c.restartErr != nil {
		add("  restart failed: %v", c.restartErr)
	}
	add("  breaker opened %d time(s)", c.opened)
	for _, t := range c.transitions {
		add("  breaker %s", t)
	}
	q := func(h *hdr.Histogram, p float64) string { return report.Dur(time.Duration(h.ValueAtPercentile(p))) }
	add("  fast-fails (STORE_CIRCUIT_OPEN): %d, p50 %s, p99 %s", c.fastFails.TotalCount(), q(c.fastFails, 50), q(c.fastFails, 99))
	add("  unavailable errors (sent to the dead server): %d, p50 %s, max %s", c.waited.TotalCount(), q(c.waited, 50), q(c.waited, 100))
	for _, code := range sortedKeys(c.other) {
		add("  other errors %s: %d", code, c.other[code])
	}
	if c.okDuring > 0 {
		add("  successes while the server was down: %d", c.okDuring)
	}
	switch {
	case c.ready.IsZero():
	case c.firstOK.IsZero():
		add("  recovery: no success after the restart within the run (make -duration longer)")
	default:
		add("  recovery: first success %s after the server accepted connections", report.Dur(c.firstOK.Sub(c.ready)))
	}
	return out
}

func sleepUntil(ctx context.Context, t time.Time) bool { return pause.For(ctx, time.Until(t)) == nil }
