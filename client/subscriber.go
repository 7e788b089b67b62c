package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/events"
	"github.com/igniter-go/store/internal/executor"
	"github.com/igniter-go/store/internal/goid"
	"github.com/igniter-go/store/middleware/schema"
	"github.com/igniter-go/store/ops"
)

// closeGrace is how long Store.Close waits for running handlers to return after their ctx is
// canceled. A handler that ignores its ctx longer than this is reported and left running.
const closeGrace = 10 * time.Second

// reconnect backoff bounds of the receive loop while Redis cannot be reached.
const (
	backoffMin = 10 * time.Millisecond
	backoffMax = time.Second
)

// topicKey names one Redis subscription: a channel, or a pattern.
type topicKey struct {
	pattern bool
	name    string // full channel or pattern
}

// topic is one channel or pattern and its subscriptions.
type topic struct {
	key   topicKey
	event string // the subscribed event string ("user:created", "user:*")
	base  string // "<prefix>:events:", cut from a channel to get its event
	subs  []*subscription
}

// subscriber owns the store's pub/sub connection (a go-redis PubSub) and its receive loop. One
// per Build. It sends one SUBSCRIBE per channel however many subscriptions share it; go-redis
// re-sends SUBSCRIBE (all channels, in one command) and PSUBSCRIBE after a reconnect.
type subscriber struct {
	c    *core
	cfg  eventsConfig
	stop chan struct{}
	loop chan struct{} // closed when the receive loop returns

	// ctl is one token that serialises subscribe, unsubscribe and connection replacement. A
	// channel, not a mutex: Subscribe waits for it no longer than its ctx, and a failed
	// Subscribe hands it to the goroutine that cleans up after it.
	ctl chan struct{}

	mu      sync.Mutex    // guards the fields below; held briefly, never across I/O
	ps      *redis.PubSub // replaced when its connection stops answering
	closed  bool
	topics  map[topicKey]*topic
	waiters map[topicKey]chan error // confirmations (nil) or refusals awaited by add
	live    map[*worker]struct{}    // subscription goroutines that have not returned
}

func newSubscriber(c *core, cfg eventsConfig) *subscriber {
	sb := &subscriber{c: c, cfg: cfg, ps: c.adapter.universal().Subscribe(context.Background()),
		stop: make(chan struct{}), loop: make(chan struct{}), ctl: make(chan struct{}, 1),
		topics: map[topicKey]*topic{}, waiters: map[topicKey]chan error{}, live: map[*worker]struct{}{}}
	go sb.receive()
	return sb
}

// cleanupTimeout bounds the UNSUBSCRIBE that undoes a failed SUBSCRIBE, and the replacement of
// the connection when that UNSUBSCRIBE fails too. Both run off the caller's goroutine.
const cleanupTimeout = time.Second

// lock takes ctl, waiting no longer than ctx.
func (sb *subscriber) lock(ctx context.Context) error {
	select {
	case sb.ctl <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-sb.stop:
		return errClosedEvents()
	}
}

func (sb *subscriber) unlock() { <-sb.ctl }

// add subscribes sub to key, sending SUBSCRIBE/PSUBSCRIBE only for a new topic, and waits for
// Redis to confirm it, no longer than ctx: the PubSub calls, which may wait for a handshake
// the receive loop started, run on their own goroutine. On failure nothing is left behind: sub
// is removed before add returns, and a goroutine that keeps ctl until it is done undoes the
// SUBSCRIBE (cleanup); a later add sends SUBSCRIBE again.
func (sb *subscriber) add(ctx context.Context, key topicKey, base string, sub *subscription) error {
	if err := sb.lock(ctx); err != nil {
		return executor.MapError(ops.EventsSubscribe, err)
	}
	held := true
	defer func() {
		if held {
			sb.unlock()
		}
	}()
	sub.key = key
	sb.mu.Lock()
	if sb.closed {
		sb.mu.Unlock()
		return errClosedEvents()
	}
	if t := sb.topics[key]; t != nil {
		t.subs = append(slices.Clip(t.subs), sub)
		sub.start(sb)
		sb.mu.Unlock()
		return nil
	}
	t := &topic{key: key, event: sub.event, base: base, subs: []*subscription{sub}}
	confirmed := make(chan error, 1)
	sb.topics[key] = t
	sb.waiters[key] = confirmed
	sub.start(sb)
	sb.mu.Unlock()

	ps := sb.current()
	sent := make(chan error, 1)
	go func() {
		if key.pattern {
			sent <- ps.PSubscribe(ctx, key.name)
		} else {
			sent <- ps.Subscribe(ctx, key.name)
		}
	}()
	var err error
	pending := sent // the SUBSCRIBE call still running, nil once it returned
	select {
	case err = <-sent:
		pending = nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-sb.stop:
		err = errClosedEvents()
	}
	if err == nil {
		select {
		case err = <-confirmed:
		case <-ctx.Done():
			err = ctx.Err()
		case <-sb.stop:
			err = errClosedEvents()
		}
	}
	if err == nil {
		return nil
	}
	sub.shutdown()
	sb.mu.Lock()
	delete(sb.topics, key)
	delete(sb.waiters, key)
	sb.mu.Unlock()
	held = false // cleanup releases ctl
	go sb.cleanup(ps, key, pending)
	return executor.MapError(ops.EventsSubscribe, err)
}

// cleanup undoes the SUBSCRIBE of a failed add, holding ctl (add's, handed over) until it is
// done, so no other subscribe or unsubscribe runs in between. It waits for the SUBSCRIBE call in
// flight (pending, nil if it returned), then sends UNSUBSCRIBE (go-redis would otherwise
// resubscribe the topic at its next reconnect; it forgets it before any I/O). If that fails, the
// connection is replaced (replaceLocked closes it), so a subscription the SUBSCRIBE may have
// made stays on no connection.
func (sb *subscriber) cleanup(ps *redis.PubSub, key topicKey, pending <-chan error) {
	defer sb.unlock()
	if pending != nil {
		<-pending
	}
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	var err error
	if key.pattern {
		err = ps.PUnsubscribe(ctx, key.name)
	} else {
		err = ps.Unsubscribe(ctx, key.name)
	}
	if err == nil || sb.isClosed() || sb.current() != ps {
		return
	}
	rctx, rcancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer rcancel()
	sb.replaceLocked(rctx, ps)
}

// remove takes sub off its topic and unsubscribes the topic when it was the last one.
func (sb *subscriber) remove(ctx context.Context, sub *subscription) error {
	sb.ctl <- struct{}{} // not bounded by ctx: sub must leave its topic
	defer sb.unlock()
	sb.mu.Lock()
	t := sb.topics[sub.key]
	if sb.closed || t == nil || !slices.Contains(t.subs, sub) {
		sb.mu.Unlock()
		return nil
	}
	t.subs = slices.DeleteFunc(slices.Clone(t.subs), func(x *subscription) bool { return x == sub })
	empty := len(t.subs) == 0
	if empty {
		delete(sb.topics, sub.key)
	}
	sb.mu.Unlock()
	if !empty {
		return nil
	}
	return executor.MapError(ops.EventsUnsubscribe, sb.unsubscribe(ctx, sub.key))
}

func (sb *subscriber) unsubscribe(ctx context.Context, key topicKey) error {
	ps := sb.current()
	if key.pattern {
		return ps.PUnsubscribe(ctx, key.name)
	}
	return ps.Unsubscribe(ctx, key.name)
}

// current returns the PubSub in use.
func (sb *subscriber) current() *redis.PubSub {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return sb.ps
}

// replace swaps a PubSub whose connection stopped answering for a new one subscribed to every
// topic (one SUBSCRIBE with all channels, one PSUBSCRIBE with all patterns), and closes the old
// one. It reports false, changing nothing, while a subscribe or unsubscribe is in progress: the
// caller tries again at its next health check.
func (sb *subscriber) replace(ctx context.Context, old *redis.PubSub) bool {
	select {
	case sb.ctl <- struct{}{}:
	default:
		return false
	}
	defer sb.unlock()
	sb.replaceLocked(ctx, old)
	return true
}

// replaceWithin is replace with its I/O bounded by d.
func (sb *subscriber) replaceWithin(ctx context.Context, old *redis.PubSub, d time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return sb.replace(ctx, old)
}

// replaceLocked is replace for a caller that holds ctl.
func (sb *subscriber) replaceLocked(ctx context.Context, old *redis.PubSub) {
	var channels, patterns []string
	sb.mu.Lock()
	for k := range sb.topics {
		if k.pattern {
			patterns = append(patterns, k.name)
		} else {
			channels = append(channels, k.name)
		}
	}
	sb.mu.Unlock()
	ps := sb.c.adapter.universal().Subscribe(ctx)
	// A failed write still records the channels: the next Receive reconnects and resubscribes.
	if len(channels) > 0 {
		_ = ps.Subscribe(ctx, channels...)
	}
	if len(patterns) > 0 {
		_ = ps.PSubscribe(ctx, patterns...)
	}
	sb.mu.Lock()
	if sb.closed {
		sb.mu.Unlock()
		_ = ps.Close()
		return
	}
	sb.ps = ps
	sb.mu.Unlock()
	_ = old.Close()
}

// receive is the receive loop: it reads the connection, releases subscribe confirmations,
// dispatches messages, and rides out disconnects (go-redis reconnects and resubscribes on the
// next read).
func (sb *subscriber) receive() {
	defer close(sb.loop)
	ctx := context.Background()
	var lost time.Time
	confirmed := 0 // subscriptions confirmed again since lost
	backoff := time.Duration(0)
	pinged := false
	var bound readBound
	defer bound.stop()
	for {
		ps := sb.current()
		every := sb.c.healthCheck
		msg, err := ps.ReceiveTimeout(bound.ctx(ctx, every), every)
		if sb.isClosed() {
			return
		}
		if err != nil && sb.current() != ps {
			continue // replaced under the read (a failed Subscribe's cleanup): not a loss
		}
		if err != nil && isTimeout(err) {
			switch {
			case !pinged:
				pctx, cancel := context.WithTimeout(ctx, every)
				pinged = ps.Ping(pctx) == nil // a failed write reconnects by itself
				cancel()
			case sb.replaceWithin(ctx, ps, every):
				pinged = false
				confirmed = 0
				if lost.IsZero() {
					lost = time.Now().Add(-2 * every)
				}
				sb.c.logger.LogAttrs(ctx, slog.LevelWarn, "igniter store: pub/sub connection stopped answering; replaced it",
					slog.Duration("silent_for", 2*every))
			}
			continue
		}
		pinged = false
		if err != nil && executor.Category(err) == ops.ErrFailed {
			// An error reply, not a broken connection: Redis refused a (P)SUBSCRIBE (NOPERM
			// from an ACL). RESP does not say which; add sends one at a time, so it is the
			// one awaited.
			sb.refuse(err)
			if !lost.IsZero() && sb.resubscribed(true, &confirmed) {
				sb.reconnected(ctx, time.Since(lost))
				lost = time.Time{}
			}
			continue
		}
		if err != nil {
			confirmed = 0 // the next connection resubscribes every topic again
			if lost.IsZero() {
				lost = time.Now()
				sb.c.logger.LogAttrs(ctx, slog.LevelWarn, "igniter store: pub/sub connection lost; reconnecting",
					slog.String("error", err.Error()))
			}
			backoff = min(max(2*backoff, backoffMin), backoffMax)
			t := time.NewTimer(backoff)
			select {
			case <-sb.stop:
				t.Stop()
				return
			case <-t.C:
			}
			continue
		}
		backoff = 0
		if !lost.IsZero() && sb.resubscribed(isConfirmation(msg), &confirmed) {
			sb.reconnected(ctx, time.Since(lost))
			lost = time.Time{}
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			sb.confirm(m)
		case *redis.Message:
			sb.dispatch(ctx, m)
		}
	}
}

// resubscribed counts one more answer to the resubscription after a loss (a confirmation, or a
// refusal: Redis answered for that topic) when answered is true, and reports whether every
// topic has been answered, so SignalReconnected ("resubscribed N") is raised only once a publish
// to any of them reaches this connection.
func (sb *subscriber) resubscribed(answered bool, confirmed *int) bool {
	if answered {
		*confirmed++
	}
	sb.mu.Lock()
	n := len(sb.topics)
	sb.mu.Unlock()
	return *confirmed >= n
}

// isConfirmation reports whether msg confirms a SUBSCRIBE or PSUBSCRIBE.
func isConfirmation(msg any) bool {
	s, ok := msg.(*redis.Subscription)
	return ok && (s.Kind == "subscribe" || s.Kind == "psubscribe")
}

// isTimeout reports whether err is a read deadline passing (no message within the health
// interval), as opposed to a broken connection.
// readBound bounds the receive loop's reads to 2×every, so a handshake with a server that
// stopped answering (go-redis dials under the PubSub's lock, which Subscribe and its cleanup wait
// for) ends even with ReadTimeout -1. One bound serves many reads: it is renewed once less than
// 1.5×every of it is left, so a read's own timeout (every) always ends first, and a busy
// subscription does not pay a context and a timer per message.
type readBound struct {
	c      context.Context
	cancel context.CancelFunc
	until  time.Time
}

func (b *readBound) ctx(parent context.Context, every time.Duration) context.Context {
	if now := time.Now(); b.c == nil || b.until.Sub(now) < every+every/2 {
		b.stop()
		b.until = now.Add(2 * every)
		b.c, b.cancel = context.WithDeadline(parent, b.until)
	}
	return b.c
}

func (b *readBound) stop() {
	if b.cancel != nil {
		b.cancel()
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (sb *subscriber) isClosed() bool {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return sb.closed
}

func (sb *subscriber) confirm(m *redis.Subscription) {
	if m.Kind != "subscribe" && m.Kind != "psubscribe" {
		return
	}
	key := topicKey{pattern: m.Kind == "psubscribe", name: m.Channel}
	sb.mu.Lock()
	if ch := sb.waiters[key]; ch != nil {
		ch <- nil
		delete(sb.waiters, key)
	}
	sb.mu.Unlock()
}

// refuse fails the subscriptions awaiting confirmation with err, a reply error.
func (sb *subscriber) refuse(err error) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	for key, ch := range sb.waiters {
		ch <- err
		delete(sb.waiters, key)
	}
}

func (sb *subscriber) reconnected(ctx context.Context, outage time.Duration) {
	sb.mu.Lock()
	n := len(sb.topics)
	sb.mu.Unlock()
	sb.c.logger.LogAttrs(ctx, slog.LevelInfo, "igniter store: pub/sub connection restored; resubscribed",
		slog.Int("subscriptions", n), slog.Duration("outage", outage))
	sig := ops.Signal{Kind: ops.SignalReconnected, Service: sb.c.service, N: int64(n), Duration: outage}
	for _, o := range sb.c.observers {
		o.Observe(ctx, sig)
	}
}

// dispatch decodes a message once and offers it to every subscription of its topic. It never
// blocks: a full buffer drops.
func (sb *subscriber) dispatch(ctx context.Context, msg *redis.Message) {
	key := topicKey{pattern: msg.Pattern != "", name: msg.Channel}
	if key.pattern {
		key.name = msg.Pattern
	}
	sb.mu.Lock()
	t := sb.topics[key]
	var subs []*subscription
	if t != nil {
		subs = t.subs // never written in place
	}
	sb.mu.Unlock()
	if len(subs) == 0 {
		return
	}
	// The channel decides the event: the sender's "type" is checked against it, never used to
	// pick a schema, and never repeated in an error or a log line.
	event := strings.TrimPrefix(msg.Channel, t.base)
	if n := len(msg.Payload); n > sb.c.maxPayload {
		reportAll(ctx, subs, inboundError(event, events.ErrPayloadTooLarge, map[string]any{"event": event, "size": n, "limit": sb.c.maxPayload}))
		return
	}
	m, err := events.DecodeMessage([]byte(msg.Payload), t.event, event, time.Now())
	if err != nil {
		reportAll(ctx, subs, err)
		return
	}
	if !m.Legacy && m.Type != event {
		reportAll(ctx, subs, inboundError(event, events.ErrTypeMismatch, map[string]any{"event": event}))
		return
	}
	if v := sb.cfg.validation; v.Subscribe {
		if s, ok := sb.cfg.registry.Lookup(event); ok {
			if err := validate(s, event, m.Data); err != nil {
				reportAll(ctx, subs, err)
				if !v.Lenient {
					return
				}
			}
		}
	}
	for _, sub := range subs {
		sub.offer(ctx, m)
	}
}

// validate runs the event's schema on a received payload: nil when it is valid,
// STORE_SCHEMA_VALIDATION_FAILED with the issues otherwise. A schema may run user code
// (schema.Func) and this runs on the receive goroutine: a panic is recovered as
// STORE_CALLBACK_PANIC, reported and handled like an invalid message, and receiving goes on.
func validate(s schema.Schema, event string, data []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = ops.CallbackPanic("events.validate", r).WithDetails(map[string]any{"event": event})
		}
	}()
	if issues := s.Validate(data); len(issues) > 0 {
		return schema.Failed("events.subscribe", event, issues)
	}
	return nil
}

// inboundError is the STORE_MESSAGE_INVALID of a message dropped before its data is decoded.
func inboundError(event string, cause error, details map[string]any) error {
	e := ops.NewError(ops.CodeMessageInvalid, "events.subscribe", "inbound message dropped: "+cause.Error(), cause)
	e.Details = details
	return e
}

// reportAll reports a message that reaches no handler: one signal and one log line for the
// message, and every subscription's error callback (queued to each subscription's goroutine:
// the receive goroutine runs no user code but subscribe-side schema validators, under recover).
func reportAll(ctx context.Context, subs []*subscription, err error) {
	subs[0].record(ctx, ops.SignalMessageInvalid, err)
	for _, sub := range subs {
		sub.notify(err)
	}
}

// close ends the loop and every subscription, then waits (up to closeGrace) for running
// handlers, except the one calling close, if any.
func (sb *subscriber) close(ctx context.Context) error {
	sb.mu.Lock()
	if sb.closed {
		sb.mu.Unlock()
		return nil
	}
	sb.closed = true
	var subs []*subscription
	for _, t := range sb.topics {
		subs = append(subs, t.subs...)
	}
	sb.topics = map[topicKey]*topic{}
	ps := sb.ps
	sb.mu.Unlock()
	close(sb.stop)
	err := ps.Close()
	if errors.Is(err, redis.ErrClosed) {
		err = nil
	}
	<-sb.loop
	for _, sub := range subs {
		sub.shutdown()
	}
	// Wait for every subscription goroutine but the caller's own: a handler or OnError may call
	// Store.Close, and that call cannot wait for itself.
	self := goid.Current()
	var running []chan struct{}
	sb.mu.Lock()
	for w := range sb.live {
		if w.gid.Load() != self {
			running = append(running, w.exited)
		}
	}
	sb.mu.Unlock()
	t := time.NewTimer(closeGrace)
	defer t.Stop()
	for _, exited := range running {
		select {
		case <-exited:
			continue
		case <-t.C:
			sb.c.logger.LogAttrs(ctx, slog.LevelError, "igniter store: subscription handlers still running after Close; they ignore their ctx",
				slog.Duration("waited", closeGrace))
		}
		break
	}
	if err != nil {
		return executor.MapError(ops.EventsUnsubscribe, err)
	}
	return nil
}

func errClosedEvents() error {
	return ops.NewError(ops.CodeClosed, "events.subscribe", "the store is closed", nil)
}

// panicError is the cause of a STORE_HANDLER_FAILED from a panic.
type panicError struct{ value any }

func (p panicError) Error() string { return fmt.Sprintf("handler panicked: %v", p.value) }
