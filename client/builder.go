package client

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/igniter-go/store/internal/blockconn"
	"github.com/igniter-go/store/internal/keyspace"
	"github.com/igniter-go/store/ops"
)

// Builder configures a Store. It is immutable: every With*/Add*/Use call returns a new Builder
// and leaves its receiver unchanged, so one builder can be branched into several stores.
//
// Configuration errors (a duplicate scope, an invalid name…) carry the original's codes and
// messages. Where the original throws at the call, the Builder records the first error and
// [Builder.Build] returns it.
type Builder struct {
	adapter    Adapter
	service    string
	scopes     []scopeDef // definition order
	logger     *slog.Logger
	user       []ops.Middleware
	slots      [slotCount]ops.Middleware
	observers  []ops.Observer
	resilience []resilienceOption // builder_resilience.go, applied in order at Build
	telemetry  telemetryConfig    // builder_telemetry.go, applied at Build
	carrier    TraceCarrier
	err        error
	events     eventsConfig  // events.go
	streams    streamsConfig // builder_streams.go
	health     time.Duration // subscriber health check; 0 = DefaultHealthCheck
	limits     limitsConfig  // builder_limits.go
}

// The fixed positions of the chain, outermost first; user middleware (Use) comes after the
// last slot, right before the executor.
type slot int

const (
	slotTelemetry slot = iota // telemetry: events, spans, metrics (sees every outcome)
	slotTimeout               // a default deadline for ops whose ctx has none
	slotSchema                // schema validation
	slotRetry                 // retry (outside the breaker)
	slotBreaker               // circuit breaker
	slotCount
)

type scopeDef struct {
	key         string
	required    bool
	description string
}

// ScopeOption configures a scope declared with [Builder.AddScope].
type ScopeOption func(*scopeDef)

// Required makes the scope mandatory: every data operation on a store that has not been scoped
// by this key fails with STORE_SCOPE_REQUIRED before any network call. (The original stores the
// flag and never reads it.)
func Required() ScopeOption { return func(d *scopeDef) { d.required = true } }

// Description documents the scope.
func Description(text string) ScopeOption { return func(d *scopeDef) { d.description = text } }

// New returns an empty Builder.
func New() *Builder { return &Builder{} }

func (b *Builder) clone() *Builder {
	c := *b
	c.scopes = slices.Clone(b.scopes)
	c.user = slices.Clone(b.user)
	c.observers = slices.Clone(b.observers)
	c.resilience = slices.Clone(b.resilience)
	return &c
}

func (b *Builder) fail(err error) *Builder {
	c := b.clone()
	if c.err == nil {
		c.err = err
	}
	return c
}

// WithAdapter sets what runs the operations: [Redis] or [HandlerAdapter]. Required.
func (b *Builder) WithAdapter(a Adapter) *Builder {
	c := b.clone()
	c.adapter = a
	return c
}

// WithService sets the service name, the first segment of every key after igniter:store.
// Required. It may not contain ':', glob characters (*?[]\), white space or control characters.
func (b *Builder) WithService(name string) *Builder {
	c := b.clone()
	c.service = name
	return c
}

// AddScope declares a scope key. Once any scope is declared, [Store.Scope] accepts only declared
// keys. The key follows the original's namespace rules (no '.', no ':', not reserved) and may not
// be a store namespace (kv, counter, claim, events, streams) nor hold glob characters or spaces.
// Default: no scope declared, and Scope accepts any valid key.
func (b *Builder) AddScope(key string, opts ...ScopeOption) *Builder {
	err := keyspace.ValidateNamespace(key) // the original's check, with its codes and messages
	if err == nil {
		err = keyspace.ValidateScopeKey(key)
	}
	if err != nil {
		return b.fail(withOperation(err, "addScope"))
	}
	for _, d := range b.scopes {
		if d.key == key {
			return b.fail(ops.Invalid(ops.CodeDuplicateScope, "addScope",
				fmt.Sprintf("Scope %q is already defined. Each scope key can only be added once.", key),
				map[string]any{"key": key}))
		}
	}
	d := scopeDef{key: key}
	for _, o := range opts {
		o(&d)
	}
	c := b.clone()
	c.scopes = append(c.scopes, d)
	return c
}

// WithLogger sets the logger the store reports background failures to (subscription handler
// panics, dropped messages, reconnects). Default: discard.
func (b *Builder) WithLogger(l *slog.Logger) *Builder {
	c := b.clone()
	c.logger = l
	return c
}

// Use appends middleware that runs innermost, after the store's own middleware (telemetry,
// validation, retry, breaker) and right before the executor, in the order given. Default: none.
func (b *Builder) Use(mws ...ops.Middleware) *Builder {
	c := b.clone()
	c.user = append(c.user, mws...)
	return c
}

// WithObserver adds an observer of the signals the store raises outside an operation's call:
// pub/sub deliveries, drops and reconnects, consume-loop progress, retries, breaker transitions.
// Telemetry packages provide observers; they run in the order added. Default: none.
func (b *Builder) WithObserver(o ops.Observer) *Builder {
	c := b.clone()
	c.observers = append(c.observers, o)
	return c
}

// WithTraceCarrier sets how trace context travels inside event envelopes and stream entries.
// Default: none.
func (b *Builder) WithTraceCarrier(tc TraceCarrier) *Builder {
	c := b.clone()
	c.carrier = tc
	return c
}

// withSlot sets the middleware of one chain position (nil turns it off).
func (b *Builder) withSlot(s slot, mw ops.Middleware) *Builder {
	c := b.clone()
	c.slots[s] = mw
	return c
}

// Build checks the configuration and returns a Store. The first error recorded by a builder call
// comes first; then the adapter is checked (STORE_ADAPTER_REQUIRED), then the service
// (STORE_SERVICE_REQUIRED, STORE_SERVICE_INVALID), as the original orders them. Each call
// returns a new Store.
func (b *Builder) Build() (*Store, error) {
	if b.err != nil {
		return nil, b.err
	}
	// Observers first (telemetry adds its own), so retry and breaker signals reach them all.
	b = b.applyTelemetry()  // telemetry slot, observers, trace carrier: builder_telemetry.go
	b = b.applyResilience() // retry, breaker and timeout slots and their defaults: builder_resilience.go
	if b.adapter == nil {
		return nil, errAdapterRequired()
	}
	if err := b.adapter.check(); err != nil {
		return nil, err
	}
	if err := keyspace.ValidateService(b.service); err != nil {
		return nil, err
	}
	logger := b.logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	mws := make([]ops.Middleware, 0, int(slotCount)+len(b.user))
	mws = append(mws, b.slots[:]...)
	mws = append(mws, b.user...)
	chain := ops.Chain(mws...)
	c := &core{
		adapter:     b.adapter,
		service:     b.service,
		scopes:      slices.Clone(b.scopes),
		logger:      logger,
		observers:   slices.Clone(b.observers),
		carrier:     b.carrier,
		chain:       chain,
		observe:     ops.Chain(b.slots[slotTelemetry]),
		handler:     chain(b.adapter.handler()),
		events:      &eventsState{cfg: b.events},
		blocking:    blockconn.New(b.adapter.universal(), b.streams.conns),
		healthCheck: b.health,
		maxPayload:  b.limits.payload(),
		sources:     newGroupSources(),
	}
	if c.healthCheck == 0 {
		c.healthCheck = DefaultHealthCheck
	}
	// Close runs closers in reverse: consume loops and their connections first, then the
	// subscriber, then the adapter.
	c.onClose(c.events.close)
	c.onClose(c.blocking.Close)
	b.prepareInstruments() // zero series before the first event: builder_telemetry.go
	return newStore(c, keyspace.New(b.service)), nil
}

func withOperation(err error, operation string) error {
	if e, ok := err.(*ops.Error); ok && e.Operation == "" {
		c := *e
		c.Operation = operation
		return &c
	}
	return err
}

func scopeKeys(defs []scopeDef) string {
	keys := make([]string, len(defs))
	for i, d := range defs {
		keys[i] = d.key
	}
	return strings.Join(keys, ", ")
}
