package client

import (
	"cmp"
	"context"
	"time"

	"github.com/igniter-go/store/middleware/breaker"
	"github.com/igniter-go/store/middleware/retry"
	"github.com/igniter-go/store/middleware/timeout"
	"github.com/igniter-go/store/ops"
)

// The resilience defaults are documented in the package doc's "Defaults" section (doc.go), so
// go doc shows them; each option below names its own.

// resilienceConfig is what the resilience options set.
type resilienceConfig struct {
	retry      retry.Policy
	retryOff   bool
	breaker    breaker.Settings
	breakerOff bool
	timeout    time.Duration
}

// resilienceOption is one resilience setting of a Builder. The settings are kept in order and
// applied at Build (applyResilience), so every Build gets its own breaker and budget.
type resilienceOption func(*resilienceConfig)

func (b *Builder) withResilience(o resilienceOption) *Builder {
	c := b.clone()
	c.resilience = append(c.resilience, o)
	return c
}

// WithRetry sets the retry policy. Zero fields of p mean their defaults, so
// retry.Policy{MaxAttempts: 5} keeps the default backoff and budget; turn parts off with
// retry.NoBackoff, NoBudget: true or MaxAttempts: 1. The policy's OnRetry and OnBudgetExhausted
// still run, and the store's observers get SignalRetry and SignalRetryBudget. A Budget set in p
// is shared by every Store built from this builder; the default one is fresh for each Build.
// Default: retry.Policy{} — 3 attempts for idempotent operations on ErrUnavailable, full-jitter
// backoff 10ms–250ms, a budget of 10% of requests (burst 10), and no attempt started with less
// than 10ms of the call's deadline left (retry.DefaultMinAttemptTime).
func (b *Builder) WithRetry(p retry.Policy) *Builder {
	return b.withResilience(func(c *resilienceConfig) { c.retry, c.retryOff = p, false })
}

// WithoutRetry turns retries off: every operation runs once. Default: retries on (see
// [Builder.WithRetry]).
func (b *Builder) WithoutRetry() *Builder {
	return b.withResilience(func(c *resilienceConfig) { c.retryOff = true })
}

// WithBreaker sets the circuit breaker's settings; zero fields mean their defaults. Each Build
// makes its own breaker. The settings' OnStateChange still runs, and the store's observers get
// SignalBreakerState (Name, From, To). Default: breaker.Settings{} — opens after 5 consecutive
// ErrUnavailable failures, stays open 1s, then lets 1 probe through.
func (b *Builder) WithBreaker(s breaker.Settings) *Builder {
	return b.withResilience(func(c *resilienceConfig) { c.breaker, c.breakerOff = s, false })
}

// WithoutBreaker turns the circuit breaker off: calls go to Redis whatever its state. Default:
// a breaker on (see [Builder.WithBreaker]).
func (b *Builder) WithoutBreaker() *Builder {
	return b.withResilience(func(c *resilienceConfig) { c.breakerOff = true })
}

// WithTimeout sets the deadline of operations whose ctx has none (a blocking stream read gets
// its block time on top); a caller's own deadline always wins. d ≤ 0 turns it off. Whichever
// deadline applies bounds the whole call (the go-redis client must honour it:
// ContextTimeoutEnabled, which Build checks), and a call that reaches it fails with
// STORE_TIMEOUT. Default: timeout.Default (5s).
func (b *Builder) WithTimeout(d time.Duration) *Builder {
	return b.withResilience(func(c *resilienceConfig) { c.timeout = d })
}

// applyResilience returns a builder whose timeout, retry and breaker slots hold the configured
// middleware, wired to the observers. Build calls it first, so every Build gets its own breaker
// and budget.
func (b *Builder) applyResilience() *Builder {
	cfg := resilienceConfig{timeout: timeout.Default} // a zero retry.Policy and breaker.Settings are the defaults
	for _, opt := range b.resilience {
		opt(&cfg)
	}
	c := b.clone()
	observers := c.observers
	emit := func(ctx context.Context, s ops.Signal) {
		for _, o := range observers {
			o.Observe(ctx, s)
		}
	}
	c.slots[slotTimeout] = timeout.New(cfg.timeout)
	c.slots[slotRetry] = nil
	if !cfg.retryOff && cfg.retry.Enabled() {
		c.slots[slotRetry] = retry.New(retrySignals(cfg.retry, emit))
	}
	c.slots[slotBreaker] = nil
	if !cfg.breakerOff {
		c.slots[slotBreaker] = breaker.New(breakerSignals(cfg.breaker, b.service, emit)).Middleware()
	}
	return c
}

// breakerName is the name of the breaker Build makes, "" when it makes none.
func (b *Builder) breakerName() string {
	var cfg resilienceConfig
	for _, opt := range b.resilience {
		opt(&cfg)
	}
	if cfg.breakerOff {
		return ""
	}
	return cmp.Or(cfg.breaker.Name, "redis") // breaker.Settings' default name
}

// retrySignals returns p with callbacks that also raise SignalRetry and SignalRetryBudget.
func retrySignals(p retry.Policy, emit func(context.Context, ops.Signal)) retry.Policy {
	onRetry, onBudget := p.OnRetry, p.OnBudgetExhausted
	p.OnRetry = func(ctx context.Context, a retry.Attempt) {
		if onRetry != nil {
			onRetry(ctx, a)
		}
		emit(ctx, attemptSignal(ops.SignalRetry, a))
	}
	p.OnBudgetExhausted = func(ctx context.Context, a retry.Attempt) {
		if onBudget != nil {
			onBudget(ctx, a)
		}
		emit(ctx, attemptSignal(ops.SignalRetryBudget, a))
	}
	return p
}

func attemptSignal(kind ops.SignalKind, a retry.Attempt) ops.Signal {
	return ops.Signal{Kind: kind, Service: a.Op.Service, ScopeKey: a.Op.ScopeKey, ScopeDepth: a.Op.ScopeDepth,
		Op: a.Op.Kind, N: int64(a.Number), Err: a.Err}
}

// breakerSignals returns s with an OnStateChange that also raises SignalBreakerState.
func breakerSignals(s breaker.Settings, service string, emit func(context.Context, ops.Signal)) breaker.Settings {
	onChange := s.OnStateChange
	s.OnStateChange = func(name string, from, to breaker.State) {
		if onChange != nil {
			onChange(name, from, to)
		}
		emit(context.Background(), ops.Signal{Kind: ops.SignalBreakerState, Service: service, Name: name,
			From: from.String(), To: to.String()})
	}
	return s
}
