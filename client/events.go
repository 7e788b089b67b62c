package client

import (
	"context"
	"time"

	"github.com/igniter-go/store/events"
	"github.com/igniter-go/store/internal/keyspace"
	"github.com/igniter-go/store/middleware/schema"
	"github.com/igniter-go/store/ops"
)

// Validation sets when event payloads are checked against their schemas. The zero value is the
// original's default: validate on publish, not on subscribe, and fail on an invalid payload.
// The setting is global to the store, as in the original: the last AddEvents that passes one
// wins.
type Validation struct {
	// SkipPublish turns off validation of published payloads (the original's
	// validatePublish: false). Default: false (validate).
	SkipPublish bool
	// Subscribe validates received payloads under their envelope type (validateSubscribe).
	// An invalid message is reported (error callback, log, telemetry) and not delivered.
	// Default: false.
	Subscribe bool
	// Lenient lets invalid payloads through: a publish is sent anyway, a received message is
	// delivered after being reported (throwOnValidationError: false). Default: false.
	Lenient bool
}

// eventsConfig is the builder's events configuration: the registry and validation options.
// Both are immutable values, so clone is a copy.
type eventsConfig struct {
	registry   events.Registry
	validation Validation
}

func (c eventsConfig) clone() eventsConfig { return c }

// middleware is the schema-validation middleware for the builder's schema slot, or nil when
// publishes are not validated.
func (c eventsConfig) middleware() ops.Middleware {
	if c.validation.SkipPublish {
		return nil
	}
	return schema.New(c.registry.Lookup, schema.Options{Lenient: c.validation.Lenient})
}

// AddEvents registers a namespace of events (a snapshot of it: later definitions do not reach
// this builder) and, optionally, the validation options (default: [Validation]'s zero value;
// an AddEvents without options keeps the earlier ones, as the original). Errors, returned by
// Build: a nil namespace is STORE_MISSING_NAMESPACE, a namespace already added
// STORE_DUPLICATE_NAMESPACE, and the namespace's own definition error (invalid, reserved or
// duplicate names) as it was recorded.
//
// Publishes of registered events are validated by a schema middleware that runs right inside
// telemetry, before retry and breaker: an invalid publish fails with
// STORE_SCHEMA_VALIDATION_FAILED, telemetry records it, and nothing is sent.
func (b *Builder) AddEvents(ns *events.Namespace, v ...Validation) *Builder {
	r, err := b.events.registry.With(ns)
	if err != nil {
		return b.fail(err)
	}
	c := b.clone()
	c.events.registry = r
	if len(v) > 0 {
		c.events.validation = v[len(v)-1]
	}
	c.slots[slotSchema] = c.events.middleware()
	return c
}

// Events publishes and subscribes typed pub/sub events on the store's channels:
// igniter:store:<service>{:<scope>:<id>}*:events:<event>. It is an [events.Bus] and an
// [events.Source], so typed handles ([events.Define]) take it as well as the *Store.
type Events struct{ s *Store }

func newEvents(s *Store) Events { return Events{s} }

// EventBus returns the store's event bus, so a *Store is an [events.Source].
func (s *Store) EventBus() events.Bus { return s.Events }

// EventBus returns e itself, so Events is an [events.Source].
func (e Events) EventBus() events.Bus { return e }

// Publish sends data as event, wrapped in the original's envelope (spec §5.4):
// {"type":event,"data":…,"timestamp":"…Z"[,"scope":{"key","identifier"}]}, the scope being the
// store's innermost one, plus a "traceparent" member when a trace carrier is set. It runs
// through the middleware chain as an events.publish Op, so a registered event's payload is
// validated first (STORE_SCHEMA_VALIDATION_FAILED: nothing is sent).
//
// event is the full event string ("user:created"); it need not be registered, but it may not be
// empty nor hold white space, control or glob characters (STORE_INVALID_EVENT_NAME). A value
// that cannot be encoded is STORE_SERIALIZATION_FAILED.
func (e Events) Publish(ctx context.Context, event string, data any) error {
	s := e.s
	op := s.op(ops.EventsPublish)
	op.Name = event
	if err := events.CheckPublish(event); err != nil {
		_, err = s.reject(ctx, op, withOperation(err, "events.publish"))
		return err
	}
	payload, err := encode(ops.EventsPublish, data)
	if err != nil {
		_, err = s.reject(ctx, op, err)
		return err
	}
	var scope events.Scope
	if last, ok := s.prefix.Last(); ok {
		scope = events.Scope{Key: last.Key, Identifier: last.ID}
	}
	trace := s.core.inject(ctx)
	buf := make([]byte, 0, len(payload)+len(event)+96+len(scope.Key)+len(scope.Identifier)+len(trace))
	op.Value = events.AppendEnvelope(buf, event, payload, time.Now(), scope, trace)
	op.Key = s.prefix.Key(keyspace.NamespaceEvents, event)
	_, err = s.do(ctx, op)
	return err
}

// Subscribe calls h with every message published as event on this store's channel (scoped and
// unscoped stores use different channels, as the original). A '*' in event makes it a pattern
// (PSUBSCRIBE), so "user:*" receives "user:created"; the original subscribed the literal
// channel. It returns when Redis confirmed the subscription, or by its deadline with
// STORE_TIMEOUT, even on a server that stopped answering: the UNSUBSCRIBE that undoes a failed
// SUBSCRIBE runs after it returns, on its own goroutine and bounded, and the connection is
// replaced if that UNSUBSCRIBE fails, so no subscription is left behind.
//
// One SUBSCRIBE (or PSUBSCRIBE) is sent per channel however many handlers subscribe to it, on a
// connection of the store's own, opened at the first Subscribe. After the connection drops, or
// goes silent (after 30 s without traffic the store pings; an unanswered ping means a half-open
// connection, which is replaced), every channel and pattern is subscribed again and delivery
// resumes; messages published meanwhile are lost: that is pub/sub. Each subscription has its own goroutine and a bounded
// buffer ([events.WithBuffer]): a slow handler only delays itself, and when its buffer is full
// messages are dropped, counted and reported. A handler's error or panic is recovered and
// reported to [events.OnError], the store's logger and observers; delivery goes on.
//
// The channel decides the event: an envelope whose "type" is not the channel's event is
// reported (STORE_MESSAGE_INVALID wrapping [events.ErrTypeMismatch], a message_invalid signal)
// and reaches no handler; subscribe-side validation uses the channel's event's schema; and the
// sender's type is never repeated in an error or the log. A message larger than the store's
// maximum inbound payload ([Builder.WithMaxPayload], default 1 MiB) is dropped the same way
// before it is decoded ([events.ErrPayloadTooLarge]).
//
// Goroutines: one receive goroutine per Build reads the connection and runs no user code;
// each subscription's handler runs on its own goroutine, its OnError on another (see
// [events.SubscribeConfig]). Observers and the logger are called from all of them.
//
// Errors: STORE_INVALID_EVENT_NAME, STORE_CONFIGURATION_INVALID (nil handler),
// STORE_NOT_CONNECTED (an [HandlerAdapter] adapter has no Redis connection), STORE_CLOSED,
// STORE_SUBSCRIBE_FAILED / STORE_CONNECTION_FAILED from Redis.
func (e Events) Subscribe(ctx context.Context, event string, h events.Handler, opts ...events.SubscribeOption) (events.Subscription, error) {
	s := e.s
	op := s.op(ops.EventsSubscribe)
	op.Name = event
	pattern, err := events.CheckSubscribe(event)
	switch {
	case err != nil:
		err = withOperation(err, "events.subscribe")
	case h == nil:
		err = ops.Invalid(ops.CodeConfigurationInvalid, "events.subscribe", "Subscribe needs a handler", nil)
	case s.core.adapter.universal() == nil:
		err = ops.NewError(ops.CodeNotConnected, "events.subscribe",
			"the adapter has no Redis connection to subscribe on (HandlerAdapter adapter)", nil)
	}
	if err != nil {
		_, err = s.reject(ctx, op, err)
		return nil, err
	}
	op.Key = s.prefix.Key(keyspace.NamespaceEvents, event)
	cfg := events.Configure(opts...)
	var sub *subscription
	_, err = s.run(ctx, op, func(ctx context.Context, op ops.Op) (ops.Result, error) {
		sb, err := s.core.events.subscriber(s.core)
		if err != nil {
			return ops.Result{}, err
		}
		sub = newSubscription(ctx, s, event, h, cfg)
		return ops.Result{}, sb.add(ctx, topicKey{pattern: pattern, name: op.Key}, s.prefix.Namespace(keyspace.NamespaceEvents), sub)
	})
	if err != nil {
		return nil, err
	}
	return sub, nil
}

// unsubscribe removes sub through the chain as an events.unsubscribe Op. When the chain does
// not reach its end (a guard rejected the call), sub is still removed locally, so nothing is
// left subscribed for it.
func (e Events) unsubscribe(sub *subscription) error {
	s := e.s
	op := s.op(ops.EventsUnsubscribe)
	op.Name = sub.event
	op.Key = sub.key.name
	ctx := context.Background()
	reached := false
	_, err := s.run(ctx, op, func(ctx context.Context, op ops.Op) (ops.Result, error) {
		reached = true
		sb := s.core.events.current()
		if sb == nil {
			return ops.Result{}, nil
		}
		return ops.Result{}, sb.remove(ctx, sub)
	})
	if !reached {
		if sb := s.core.events.current(); sb != nil {
			_ = sb.remove(ctx, sub)
		}
	}
	return err
}

// run runs op through the middleware chain with end in place of the executor: for the
// operations that do not run on the shared connection (subscribe, unsubscribe). Like do, it
// fails a store that lacks a required scope or is closed without calling end.
func (s *Store) run(ctx context.Context, op ops.Op, end ops.Handler) (ops.Result, error) {
	if s.scopeErr != nil {
		return s.reject(ctx, op, withOperation(s.scopeErr, op.Kind.Operation()))
	}
	if s.core.closed.Load() {
		return s.reject(ctx, op, errClosed(op.Kind))
	}
	return s.core.chain(end)(ctx, op)
}
