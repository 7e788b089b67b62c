package events

import (
	"context"
	"encoding/json"

	"github.com/igniter-go/store/middleware/schema"
)

// Handler handles one received message of the string API. An error it returns (or a panic) is
// reported to the subscription's [OnError] callback, the store's logger and telemetry; delivery
// goes on either way.
type Handler func(ctx context.Context, m Message) error

// Subscription is a live subscription. Close unsubscribes; it is idempotent, and the store's
// Close ends every subscription.
type Subscription interface {
	// Close ends the subscription: no handler call starts after it returns. It waits for a
	// running handler call to return (handlers must return when their ctx is done).
	Close() error
	// Event returns the subscribed event string.
	Event() string
	// Dropped returns how many messages were dropped because the subscription's buffer was full.
	Dropped() uint64
}

// Bus publishes and subscribes events by their string: client.Events is one.
type Bus interface {
	Publish(ctx context.Context, event string, data any) error
	Subscribe(ctx context.Context, event string, h Handler, opts ...SubscribeOption) (Subscription, error)
}

// Source gives the [Bus] of a store: *client.Store and client.Events are sources, so a typed
// handle is used as ev.Publish(ctx, store, v). This interface is how events stays free of an
// import of client (client imports events).
type Source interface {
	EventBus() Bus
}

// DefaultBuffer is the default number of messages a subscription holds for its handler.
const DefaultBuffer = 256

// SubscribeConfig is the configuration of one subscription; [Configure] fills it from options.
type SubscribeConfig struct {
	// Buffer is how many received messages wait for the handler. When it is full, new messages
	// are dropped, counted ([Subscription.Dropped]) and reported. Default: [DefaultBuffer].
	Buffer int
	// OnError receives every failure of the subscription: handler errors and panics
	// (STORE_HANDLER_FAILED), undecodable or invalid messages (STORE_MESSAGE_INVALID,
	// STORE_SCHEMA_VALIDATION_FAILED; envelopes whose type disagrees with their channel,
	// [ErrTypeMismatch]; messages over the store's maximum payload, [ErrPayloadTooLarge]; a
	// subscribe-side schema validator that panicked, STORE_CALLBACK_PANIC) and drops
	// (STORE_SLOW_CONSUMER).
	//
	// Goroutines: the store's receive goroutine reads the connection and runs no user code but
	// subscribe-side schema validators (a schema.Func), under recover. Each subscription runs
	// its handler on a goroutine of its own, and OnError on a second one of its own, in the
	// order the failures were found; so OnError hears about drops while the handler is blocked,
	// and a blocking OnError holds up only its own subscription (reports found meanwhile on the
	// receive side are dropped once a queue of max(Buffer, 16) is full; the log and telemetry
	// still have them). Handlers and OnError may call anything, including
	// [Subscription.Close] and the store's Close, which does not wait for the goroutine it is
	// called from. A panic in OnError is recovered: STORE_CALLBACK_PANIC (the value and stack,
	// errors.As *ops.PanicValue) goes to the logger and telemetry (ops.SignalHandlerFailed), not
	// back to OnError, and the subscription goes on. Default: nil (failures still go to the
	// logger and telemetry).
	OnError func(ctx context.Context, err error)
}

// SubscribeOption configures a subscription.
type SubscribeOption func(*SubscribeConfig)

// WithBuffer sets the subscription's buffer size (values below 1 mean 1).
func WithBuffer(n int) SubscribeOption {
	return func(c *SubscribeConfig) { c.Buffer = max(n, 1) }
}

// OnError sets the subscription's error callback.
func OnError(f func(ctx context.Context, err error)) SubscribeOption {
	return func(c *SubscribeConfig) { c.OnError = f }
}

// Configure applies opts over the defaults.
func Configure(opts ...SubscribeOption) SubscribeConfig {
	c := SubscribeConfig{Buffer: DefaultBuffer}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

// Event is a typed handle on one defined event: its string, its schema and its payload type.
type Event[T any] struct {
	name   string
	schema schema.Schema
	err    error
}

// Define defines the event name in parent (a [*Namespace] or a [*Group]) with a schema (nil: not
// validated) and returns a typed handle on it:
//
//	var billing = events.NewNamespace("billing")
//	var InvoicePaid = events.Define[Invoice](billing, "invoice_paid", schema.MustJSON(`{…}`))
//
// A definition error is recorded on the namespace (AddEvents returns it) and returned by the
// handle's Publish and Subscribe; Define never panics.
func Define[T any](parent Parent, name string, s schema.Schema) *Event[T] {
	full, err := parent.Event(name, s)
	return &Event[T]{name: full, schema: s, err: err}
}

// Name returns the full event string ("<namespace>[:<group>]:<name>"); "" when the definition
// failed.
func (e *Event[T]) Name() string { return e.name }

// Schema returns the event's schema (nil when none).
func (e *Event[T]) Schema() schema.Schema { return e.schema }

// Err returns the definition error, or nil.
func (e *Event[T]) Err() error { return e.err }

// Publish publishes v as this event through src's store (validated by the store's schema
// middleware when the namespace is registered with AddEvents).
func (e *Event[T]) Publish(ctx context.Context, src Source, v T) error {
	if e.err != nil {
		return e.err
	}
	return src.EventBus().Publish(ctx, e.name, v)
}

// Subscribe calls h with every message of this event on src's store, its payload decoded into
// a T. A payload that does not decode is reported as STORE_MESSAGE_INVALID and h is not called.
func (e *Event[T]) Subscribe(ctx context.Context, src Source, h func(ctx context.Context, ev Envelope[T]) error, opts ...SubscribeOption) (Subscription, error) {
	if e.err != nil {
		return nil, e.err
	}
	return src.EventBus().Subscribe(ctx, e.name, Typed(h), opts...)
}

// Typed adapts a typed handler to a [Handler]: it decodes the payload into a T first. A nil h
// gives a nil Handler (which Subscribe rejects).
func Typed[T any](h func(ctx context.Context, ev Envelope[T]) error) Handler {
	if h == nil {
		return nil
	}
	if raw, ok := any(h).(func(context.Context, Envelope[json.RawMessage]) error); ok {
		return raw
	}
	return func(ctx context.Context, m Message) error {
		ev, err := Decode[T](m)
		if err != nil {
			return err
		}
		return h(ctx, ev)
	}
}
