package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/igniter-go/store/internal/blockconn"
	"github.com/igniter-go/store/internal/goid"
	"github.com/igniter-go/store/internal/keyspace"
	"github.com/igniter-go/store/internal/storecore"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/streams"
)

// Store is a built, immutable store, bound to a scope chain (none for the Store that Build
// returns). Its fields group the operations as the original does; [Store.Scope] derives a store
// for one tenant. A Store is safe for concurrent use; scoped stores share the connection,
// configuration and [Store.Close] of the store they came from.
type Store struct {
	// KV stores JSON values under keys, with optional TTLs.
	KV KV
	// Counter keeps integer counters.
	Counter Counter
	// Claim takes one-time claims (SET NX) and leases with owner tokens, renewal and fencing.
	Claim Claim
	// Batch gets and sets many KV keys in one round trip.
	Batch Batch
	// Dev scans the KV namespace of this store's scope.
	Dev Dev
	// Events publishes and subscribes typed pub/sub events.
	Events Events
	// Streams appends to and reads Redis streams, with consumer groups and a consume loop.
	Streams streams.Streams

	core     *core
	prefix   keyspace.Prefix
	scopeKey string // innermost scope key, for telemetry
	scopeErr error  // a Required() scope is missing: every data op fails with it
}

// core is what every store derived from one Build shares.
type core struct {
	adapter    Adapter
	service    string
	scopes     []scopeDef
	logger     *slog.Logger
	observers  []ops.Observer
	carrier    TraceCarrier   // nil: no trace context in envelopes and entries
	chain      ops.Middleware // the composed middleware, without the executor
	observe    ops.Middleware // the telemetry slot alone: what a rejected op passes through
	handler    ops.Handler    // chain(executor), composed once
	maxPayload int            // largest inbound payload decoded (builder_limits.go)
	sources    *groupSources  // consume loops' group identities for metrics (backend_sources.go)

	events      *eventsState    // events config and the subscriber, opened at the first Subscribe
	blocking    *blockconn.Pool // connections of blocking stream reads; consume loops
	healthCheck time.Duration   // how often an idle subscriber connection is checked

	closed    atomic.Bool
	closeOnce sync.Once
	closer    atomic.Uint64 // id of the goroutine running Close, once it runs
	closeErr  error
	mu        sync.Mutex
	closers   []func() error // subscriptions, consumers, connections: closed in reverse order

	kvWatch kvWatchers // Store.WatchKVWrites (kvwatch.go)
}

func newStore(c *core, p keyspace.Prefix) *Store {
	s := &Store{core: c, prefix: p}
	if last, ok := p.Last(); ok {
		s.scopeKey = last.Key
	}
	s.scopeErr = missingRequired(c, p)
	s.KV = KV{s}
	s.Counter = Counter{s}
	s.Claim = Claim{s}
	s.Batch = Batch{s}
	s.Dev = Dev{s}
	s.Events = newEvents(s)
	s.Streams = streams.Streams(storecore.Bind(backend{s})) // streams has no constructor: see storecore.Handle
	return s
}

func missingRequired(c *core, p keyspace.Prefix) error {
	chain := p.Chain()
	for _, d := range c.scopes {
		if !d.required {
			continue
		}
		found := false
		for _, sc := range chain {
			if sc.Key == d.key {
				found = true
				break
			}
		}
		if !found {
			return ops.Invalid(ops.CodeScopeRequired, "",
				fmt.Sprintf("Scope %q is required. Use the store returned by Scope(%q, id) for data operations.", d.key, d.key),
				map[string]any{"scopeKey": d.key})
		}
	}
	return nil
}

// Scope returns a store for the scope key=id, nested inside this store's scopes. This store is
// unchanged. The checks are the original's, in its order (STORE_SCOPE_KEY_REQUIRED,
// STORE_SCOPE_IDENTIFIER_REQUIRED, STORE_INVALID_SCOPE_KEY when scopes were declared and key is
// not one of them), plus this edition's name rules (STORE_SCOPE_INVALID): ids may not hold ':',
// glob characters (*?[]\), white space or control characters. Use strconv for numeric ids.
func (s *Store) Scope(key, id string) (*Store, error) {
	if key == "" {
		return nil, ops.Invalid(ops.CodeScopeKeyRequired, "scope", "Scope key is required", nil)
	}
	if id == "" {
		return nil, ops.Invalid(ops.CodeScopeIdentifierRequired, "scope", "Scope identifier is required", map[string]any{"scopeKey": key})
	}
	if len(s.core.scopes) > 0 && !s.declared(key) {
		available := make([]string, len(s.core.scopes))
		for i, d := range s.core.scopes {
			available[i] = d.key
		}
		return nil, ops.Invalid(ops.CodeInvalidScopeKey, "scope",
			fmt.Sprintf("Scope key %q is not defined. Available scopes: %s", key, scopeKeys(s.core.scopes)),
			map[string]any{"scopeKey": key, "availableScopes": available})
	}
	if err := keyspace.ValidateScopeKey(key); err != nil {
		return nil, withOperation(err, "scope")
	}
	if err := keyspace.ValidateScopeID(key, id); err != nil {
		return nil, err
	}
	return newStore(s.core, s.prefix.With(key, id)), nil
}

// MustScope is Scope for keys and ids known to be valid; it panics on an error.
func (s *Store) MustScope(key, id string) *Store {
	scoped, err := s.Scope(key, id)
	if err != nil {
		panic(err)
	}
	return scoped
}

func (s *Store) declared(key string) bool {
	for _, d := range s.core.scopes {
		if d.key == key {
			return true
		}
	}
	return false
}

// Service returns the service name.
func (s *Store) Service() string { return s.core.service }

// Prefix returns the key prefix of this store, without a namespace (the original's getPrefix):
// igniter:store:<service>{:<scopeKey>:<scopeId>}*.
func (s *Store) Prefix() string { return s.prefix.Base() }

// Logger returns the store's logger.
func (s *Store) Logger() *slog.Logger { return s.core.logger }

// Ping checks that Redis answers (PING), through the middleware chain like every operation, so
// it is timed out, retried, counted by the breaker and observed: a readiness probe. It needs no
// scope (the root store of a service with Required scopes can ping); a closed store fails it
// with STORE_CLOSED. Build never dials, so call Ping to find out whether the server answers.
func (s *Store) Ping(ctx context.Context) error {
	op := s.op(ops.StorePing)
	if s.core.closed.Load() {
		_, err := s.reject(ctx, op, errClosed(op.Kind))
		return err
	}
	_, err := s.core.handler(ctx, op)
	return err
}

// Close ends every subscription and consumer of this store and of every store scoped from it,
// releases the connections the store opened, and closes the go-redis client if the adapter owns
// it ([OwnClient]). Operations after Close fail with STORE_CLOSED. Close is idempotent and
// returns the first error.
func (s *Store) Close() error {
	c := s.core
	c.closeOnce.Do(func() {
		c.closer.Store(goid.Current()) // a callback calling Close is not waited for (see goid)
		c.closed.Store(true)
		c.mu.Lock()
		closers := c.closers
		c.closers = nil
		c.mu.Unlock()
		var errs []error
		for i := len(closers) - 1; i >= 0; i-- {
			errs = append(errs, closers[i]())
		}
		errs = append(errs, c.adapter.close())
		c.closeErr = errors.Join(errs...)
	})
	return c.closeErr
}

// onClose registers f to run at Close. It reports false, without registering, when the store is
// already closed.
func (c *core) onClose(f func() error) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Load() {
		return false
	}
	c.closers = append(c.closers, f)
	return true
}

// signal fills in the store's identity and gives s to every observer.
func (s *Store) signal(ctx context.Context, sig ops.Signal) {
	if len(s.core.observers) == 0 {
		return
	}
	sig.Service, sig.ScopeKey, sig.ScopeDepth = s.core.service, s.scopeKey, s.prefix.Depth()
	for _, o := range s.core.observers {
		o.Observe(ctx, sig)
	}
}

// op returns an Op of kind with the store's telemetry identity filled in.
func (s *Store) op(kind ops.Kind) ops.Op {
	return ops.Op{Kind: kind, Service: s.core.service, ScopeKey: s.scopeKey, ScopeDepth: s.prefix.Depth(), Idempotent: kind.ReadOnly()}
}

// do runs op through the chain. A store that lacks a required scope, or is closed, fails the op
// without running it, and so does a kv write whose ctx is already done (STORE_CANCELED or
// STORE_TIMEOUT, as the chain would return): it could send nothing, and its watchers
// (WatchKVWrites) would otherwise have to assume it may be applied. The failure still passes
// through telemetry.
func (s *Store) do(ctx context.Context, op ops.Op) (ops.Result, error) {
	if s.scopeErr != nil {
		return s.reject(ctx, op, withOperation(s.scopeErr, op.Kind.Operation()))
	}
	if s.core.closed.Load() {
		return s.reject(ctx, op, errClosed(op.Kind))
	}
	if isKVWrite(op.Kind) { // kvwatch.go
		if err := ctx.Err(); err != nil { // nothing can be sent: no watcher is told of it
			return s.reject(ctx, op, ops.Failure(op.Kind, ops.ErrCanceled, err))
		}
		if l := s.core.kvWatch.begin(&op); l != nil {
			return s.doWatched(ctx, op, l)
		}
	}
	return s.core.handler(ctx, op)
}

// reject fails op with err without running it: the op passes through the telemetry slot only,
// so telemetry records the failure, while retry, breaker and user middleware never see a call
// that was not made (an open breaker must not mask a bad input's own code). Only failure paths
// pay for the closure.
func (s *Store) reject(ctx context.Context, op ops.Op, err error) (ops.Result, error) {
	return s.core.observe(func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{}, err })(ctx, op)
}

func errClosed(kind ops.Kind) error { return ops.Closed(kind) }
