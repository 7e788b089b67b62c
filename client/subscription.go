package client

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/igniter-go/store/events"
	"github.com/igniter-go/store/internal/goid"
	"github.com/igniter-go/store/ops"
)

// subscription is one handler on one topic, with its own goroutine and bounded buffer, and (when
// it has an OnError) a second goroutine for the error callback, so that a drop is reported while
// the handler is blocked and a blocking callback holds up only its own subscription.
type subscription struct {
	s     *Store
	event string
	key   topicKey
	h     events.Handler
	cfg   events.SubscribeConfig
	buf   chan events.Message
	notes chan error // failures waiting for OnError, on the callback goroutine

	ctx    context.Context // canceled at Close; the handlers' ctx
	cancel context.CancelFunc

	mu     sync.Mutex
	closed bool

	closeOnce sync.Once
	closeErr  error
	dropped   atomic.Uint64
	dropping  atomic.Bool // a drop was reported and no message got through since

	lastLog    atomic.Int64  // unix nanoseconds of the last failure logged
	suppressed atomic.Uint64 // failures not logged since
}

// logEvery bounds the failure log of one subscription: a handler failing on every message logs
// once per interval, with the count of the failures in between (signals and the error callback
// still see each one).
const logEvery = time.Second

// newSubscription makes a subscription whose handlers run with a ctx that keeps the values of
// parent (the Subscribe call's ctx) but not its cancellation: the subscription outlives the
// call, and ends at Close.
func newSubscription(parent context.Context, s *Store, event string, h events.Handler, cfg events.SubscribeConfig) *subscription {
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	return &subscription{s: s, event: event, h: h, cfg: cfg, buf: make(chan events.Message, cfg.Buffer),
		notes: make(chan error, max(cfg.Buffer, 16)), ctx: ctx, cancel: cancel}
}

// worker is one goroutine of a subscription, as Store.Close sees it.
type worker struct {
	gid    atomic.Uint64 // the goroutine's id, once it runs
	exited chan struct{} // closed when it returns
}

// spawn runs fn on a new goroutine recorded in sb.live until it returns. The caller holds sb.mu
// and has checked that sb is not closed, so Close waits for the goroutine.
func spawn(sb *subscriber, fn func()) {
	w := &worker{exited: make(chan struct{})}
	sb.live[w] = struct{}{}
	go func() {
		defer close(w.exited)
		defer func() {
			sb.mu.Lock()
			delete(sb.live, w)
			sb.mu.Unlock()
		}()
		w.gid.Store(goid.Current())
		fn()
	}()
}

// start runs the subscription's goroutines. The caller holds sb.mu and has checked that sb is
// not closed.
func (sub *subscription) start(sb *subscriber) {
	spawn(sb, sub.run)
	if sub.cfg.OnError != nil {
		spawn(sb, sub.callbacks)
	}
}

// callbacks is the callback goroutine: every call of OnError happens here, in the order the
// failures were found, never on the subscriber's receive goroutine nor the handler's.
func (sub *subscription) callbacks() {
	for {
		select {
		case <-sub.ctx.Done():
			return
		case err := <-sub.notes:
			if !sub.isClosed() {
				sub.callback(sub.ctx, err)
			}
		}
	}
}

// run is the handler goroutine: every call of the handler happens here.
func (sub *subscription) run() {
	for {
		select {
		case <-sub.ctx.Done():
			return
		case m := <-sub.buf:
			sub.mu.Lock()
			closed := sub.closed
			sub.mu.Unlock()
			if closed {
				return
			}
			sub.handle(m)
		}
	}
}

func (sub *subscription) handle(m events.Message) {
	ctx := sub.s.core.extract(sub.ctx, m.Trace)
	start := time.Now()
	err := sub.call(ctx, m)
	if err == nil {
		sub.s.signal(ctx, ops.Signal{Kind: ops.SignalDelivered, Name: sub.event, Duration: time.Since(start)})
		return
	}
	if ops.HasCode(err, ops.CodeMessageInvalid) {
		sub.report(ctx, ops.SignalMessageInvalid, err)
		return
	}
	sub.report(ctx, ops.SignalHandlerFailed, ops.NewError(ops.CodeHandlerFailed, "events.subscribe", "subscription handler failed", err).
		WithDetails(map[string]any{"event": sub.event}))
}

// call runs the handler, turning a panic into an error.
func (sub *subscription) call(ctx context.Context, m events.Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError{r}
		}
	}()
	return sub.h(ctx, m)
}

func (sub *subscription) isClosed() bool {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return sub.closed
}

// notify queues err for OnError from the receive goroutine; it never blocks. When the queue is
// full the callback misses err (the signal and the log, written by the caller, still have it).
func (sub *subscription) notify(err error) {
	if sub.cfg.OnError == nil {
		return
	}
	select {
	case sub.notes <- err:
	default:
	}
}

// notifyWait queues err for OnError from the handler goroutine: it waits for room, so a handler
// failing faster than its callback returns is slowed down instead of losing reports.
func (sub *subscription) notifyWait(err error) {
	if sub.cfg.OnError == nil {
		return
	}
	select {
	case sub.notes <- err:
	case <-sub.ctx.Done():
	}
}

// offer queues m for the handler, or drops it when the buffer is full.
func (sub *subscription) offer(ctx context.Context, m events.Message) {
	select {
	case sub.buf <- m:
		if sub.dropping.Load() {
			sub.dropping.Store(false)
		}
		return
	default:
	}
	n := sub.dropped.Add(1)
	sub.s.signal(ctx, ops.Signal{Kind: ops.SignalDropped, Name: sub.event, N: 1})
	if sub.dropping.CompareAndSwap(false, true) {
		err := ops.NewError(ops.CodeSlowConsumer, "events.subscribe", "subscription buffer full: messages dropped", nil).
			WithDetails(map[string]any{"event": sub.event, "dropped": n, "buffer": sub.cfg.Buffer})
		sub.s.core.logger.LogAttrs(ctx, slog.LevelWarn, "igniter store: slow subscription, dropping messages",
			slog.String("event", sub.event), slog.Uint64("dropped_total", n), slog.Int("buffer", sub.cfg.Buffer))
		sub.notify(err)
	}
}

// report sends a failure to telemetry, the log and the error callback. It runs on the handler
// goroutine.
func (sub *subscription) report(ctx context.Context, kind ops.SignalKind, err error) {
	sub.record(ctx, kind, err)
	sub.notifyWait(err)
}

// record sends a failure to telemetry and the (rate-limited) log.
func (sub *subscription) record(ctx context.Context, kind ops.SignalKind, err error) {
	sub.s.signal(ctx, ops.Signal{Kind: kind, Name: sub.event, Err: err})
	now, last := time.Now().UnixNano(), sub.lastLog.Load()
	if now-last >= int64(logEvery) && sub.lastLog.CompareAndSwap(last, now) {
		sub.s.core.logger.LogAttrs(ctx, slog.LevelError, "igniter store: subscription "+kind.String(),
			slog.String("event", sub.event), slog.String("code", string(ops.CodeOf(err))), slog.String("error", err.Error()),
			slog.Uint64("suppressed_since_last", sub.suppressed.Swap(0)))
	} else {
		sub.suppressed.Add(1)
	}
}

// callback calls OnError. It runs on the callback goroutine only. A panic of OnError is
// recovered into STORE_CALLBACK_PANIC and reported where the subscription's failures go, but
// OnError itself (it just panicked): the store's observers (SignalHandlerFailed) and the log.
// The callback goroutine goes on with the next failure.
func (sub *subscription) callback(ctx context.Context, err error) {
	if sub.cfg.OnError == nil {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			sub.record(ctx, ops.SignalHandlerFailed, ops.CallbackPanic("events.on_error", r).
				WithDetails(map[string]any{"event": sub.event}))
		}
	}()
	sub.cfg.OnError(ctx, err)
}

// shutdown stops delivery: no handler call starts after it, and a running one's ctx is
// canceled.
func (sub *subscription) shutdown() {
	sub.mu.Lock()
	sub.closed = true
	sub.mu.Unlock()
	sub.cancel()
}

// Close unsubscribes (UNSUBSCRIBE when it was the channel's last subscription) and stops
// delivery: no handler call starts after Close returns, and a running call's ctx is canceled.
// Close does not wait for that call (so a handler may close its own subscription); Store.Close
// does. Close is idempotent; calls after the first return the first's result.
func (sub *subscription) Close() error {
	sub.closeOnce.Do(func() {
		sub.shutdown()
		if !sub.s.core.closed.Load() {
			sub.closeErr = sub.s.Events.unsubscribe(sub)
		}
	})
	return sub.closeErr
}

// Event returns the subscribed event string.
func (sub *subscription) Event() string { return sub.event }

// Dropped returns how many messages were dropped because the buffer was full.
func (sub *subscription) Dropped() uint64 { return sub.dropped.Load() }
