package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/events"
	"github.com/igniter-go/store/middleware/schema"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/storetest"
)

// A handler that panics on every message and one that blocks until its ctx ends do not stop a
// third subscription from receiving everything; the panics are reported; Close ends it all
// (goleak in TestMain checks no goroutine is left).
func TestEventsPanickingAndBlockingHandlers(t *testing.T) {
	obs, failed := signalsOf(ops.SignalHandlerFailed)
	st := storetest.New(t, storetest.WithBuilder(func(b *client.Builder) *client.Builder { return b.WithObserver(obs) }))
	ctx := context.Background()

	panics := newErrSink()
	_, err := st.Events.Subscribe(ctx, "jobs:done", func(context.Context, events.Message) error {
		panic("boom")
	}, panics.option())
	if err != nil {
		t.Fatal(err)
	}
	blocked := make(chan struct{}, 1)
	drops := newErrSink()
	blocker, err := st.Events.Subscribe(ctx, "jobs:done", func(ctx context.Context, _ events.Message) error {
		blocked <- struct{}{}
		<-ctx.Done() // blocks until the subscription or the store closes
		return ctx.Err()
	}, events.WithBuffer(2), drops.option())
	if err != nil {
		t.Fatal(err)
	}
	good := newInbox()
	if _, err := st.Events.Subscribe(ctx, "jobs:done", good.handler); err != nil {
		t.Fatal(err)
	}
	other := newInbox()
	if _, err := st.Events.Subscribe(ctx, "jobs:other", other.handler); err != nil {
		t.Fatal(err)
	}

	const n = 50
	for i := range n {
		if err := st.Events.Publish(ctx, "jobs:done", i); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			<-blocked // the blocker now holds message 0
		}
	}
	if err := st.Events.Publish(ctx, "jobs:other", "x"); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if m := good.next(t); string(m.Data) != itoa(i) {
			t.Fatalf("good handler: message %d = %s", i, m.Data)
		}
	}
	if m := other.next(t); string(m.Data) != `"x"` {
		t.Fatalf("other channel: %s", m.Data)
	}
	for range n {
		err := panics.next(t)
		if ops.CodeOf(err) != ops.CodeHandlerFailed || !strings.Contains(err.Error(), "boom") || !errors.Is(err, ops.ErrFailed) {
			t.Fatalf("panic reported as %v", err)
		}
	}
	if sig := <-failed; sig.Name != "jobs:done" || ops.CodeOf(sig.Err) != ops.CodeHandlerFailed {
		t.Fatalf("handler_failed signal = %+v", sig)
	}
	// The blocker holds 1 message, its buffer 2 more; the rest were dropped, counted and
	// reported once per burst.
	if err := drops.next(t); ops.CodeOf(err) != ops.CodeSlowConsumer || !errors.Is(err, ops.ErrRejected) {
		t.Fatalf("drop reported as %v", err)
	}
	if got := blocker.Dropped(); got != n-3 {
		t.Fatalf("Dropped() = %d, want %d", got, n-3)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := blocker.Close(); err != nil {
		t.Fatalf("Close after store Close: %v", err)
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// A message that is not JSON is reported, never delivered, and delivery goes on.
func TestEventsInvalidInboundReported(t *testing.T) {
	obs, invalid := signalsOf(ops.SignalMessageInvalid)
	st := storetest.New(t, storetest.WithBuilder(func(b *client.Builder) *client.Builder { return b.WithObserver(obs) }))
	ctx := context.Background()
	box, errs := newInbox(), newErrSink()
	if _, err := st.Events.Subscribe(ctx, "user:*", box.handler, errs.option()); err != nil {
		t.Fatal(err)
	}
	channel := "igniter:store:test:events:user:created"
	for _, raw := range []string{"not json", `{"broken"`, `7`} {
		if err := st.Client.Publish(ctx, channel, raw).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if err := errs.next(t); ops.CodeOf(err) != ops.CodeMessageInvalid {
			t.Fatalf("reported %v", err)
		}
	}
	if sig := <-invalid; sig.Name != "user:*" || sig.Err == nil {
		t.Fatalf("signal %+v", sig)
	}
	// The legacy number is wrapped: type = the subscribed string, event = the channel's.
	m := box.next(t)
	if !m.Legacy || m.Type != "user:*" || m.Event != "user:created" || string(m.Data) != "7" {
		t.Fatalf("legacy message = %+v", m)
	}
}

func TestEventsPublishValidation(t *testing.T) {
	ns, created := userEvents()
	var sent []ops.Op
	var mu sync.Mutex
	exec := func(ctx context.Context, op ops.Op) (ops.Result, error) {
		mu.Lock()
		sent = append(sent, op)
		mu.Unlock()
		return ops.Result{}, nil
	}
	st, err := client.New().WithService("api").WithAdapter(client.HandlerAdapter(exec)).AddEvents(ns).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()

	err = created.Publish(ctx, st, userCreated{})
	if err != nil { // "" is a string: valid
		t.Fatal(err)
	}
	err = st.Events.Publish(ctx, "user:created", map[string]any{"id": 1})
	var e *ops.Error
	if !errors.As(err, &e) || e.Code != ops.CodeSchemaValidationFailed || e.Message != `Event payload validation failed for "user:created"` {
		t.Fatalf("invalid publish: %v", err)
	}
	if is := schema.IssuesOf(err); len(is) != 1 || is[0].Path[0] != "id" || is[0].Code != "type" {
		t.Fatalf("issues: %+v", is)
	}
	// Exact lookup: an unregistered longer name is not validated by user:created's schema.
	if err := st.Events.Publish(ctx, "user:created:extra", map[string]any{"id": 1}); err != nil {
		t.Fatal(err)
	}
	if len(sent) != 2 || sent[0].Kind != ops.EventsPublish || sent[0].Name != "user:created" || sent[0].Key != "igniter:store:api:events:user:created" {
		t.Fatalf("ops that reached the executor: %+v", sent)
	}

	// SkipPublish and Lenient let the invalid payload through.
	for _, v := range []client.Validation{{SkipPublish: true}, {Lenient: true}} {
		sent = nil
		ns2, _ := userEvents()
		st2, err := client.New().WithService("api").WithAdapter(client.HandlerAdapter(exec)).AddEvents(ns2, v).Build()
		if err != nil {
			t.Fatal(err)
		}
		if err := st2.Events.Publish(ctx, "user:created", map[string]any{"id": 1}); err != nil || len(sent) != 1 {
			t.Fatalf("%+v: err %v, sent %d", v, err, len(sent))
		}
	}

	// Subscriptions need a connection of their own: an HandlerAdapter adapter has none.
	_, err = st.Events.Subscribe(ctx, "user:created", func(context.Context, events.Message) error { return nil })
	if ops.CodeOf(err) != ops.CodeNotConnected || !errors.Is(err, ops.ErrUnavailable) {
		t.Fatalf("subscribe on Executor: %v", err)
	}
}

func TestEventsBuilderErrors(t *testing.T) {
	exec := client.HandlerAdapter(func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{}, nil })
	b := client.New().WithService("api").WithAdapter(exec)
	ns := events.NewNamespace("user")
	bad := events.NewNamespace("billing")
	_ = events.Define[int](bad, "a.b", nil)
	for _, c := range []struct {
		b    *client.Builder
		code ops.Code
	}{
		{b.AddEvents(nil), ops.CodeMissingNamespace},
		{b.AddEvents(ns).AddEvents(ns), ops.CodeDuplicateNamespace},
		{b.AddEvents(bad), ops.CodeInvalidEventName},
		{b.AddEvents(events.NewNamespace("ign")), ops.CodeReservedNamespace},
	} {
		if _, err := c.b.Build(); ops.CodeOf(err) != c.code {
			t.Errorf("Build() = %v, want %s", err, c.code)
		}
	}
	// The builder is immutable: the branch without the duplicate still builds.
	if st, err := b.AddEvents(ns).Build(); err != nil {
		t.Fatal(err)
	} else {
		st.Close()
	}
}

func TestEventsInvalidNames(t *testing.T) {
	st := storetest.New(t)
	ctx := context.Background()
	h := func(context.Context, events.Message) error { return nil }
	for _, e := range []string{"", "a b", "user:?", "a\n"} {
		if _, err := st.Events.Subscribe(ctx, e, h); ops.CodeOf(err) != ops.CodeInvalidEventName {
			t.Errorf("Subscribe(%q) = %v", e, err)
		}
	}
	for _, e := range []string{"", "user:*", "a b"} {
		if err := st.Events.Publish(ctx, e, 1); ops.CodeOf(err) != ops.CodeInvalidEventName {
			t.Errorf("Publish(%q) = %v", e, err)
		}
	}
	if _, err := st.Events.Subscribe(ctx, "a", nil); ops.CodeOf(err) != ops.CodeConfigurationInvalid {
		t.Errorf("nil handler: %v", err)
	}
	if err := st.Events.Publish(ctx, "a", func() {}); ops.CodeOf(err) != ops.CodeSerializationFailed {
		t.Errorf("unencodable: %v", err)
	}
	st.Close()
	if _, err := st.Events.Subscribe(ctx, "a", h); ops.CodeOf(err) != ops.CodeClosed {
		t.Errorf("subscribe after Close: %v", err)
	}
	if err := st.Events.Publish(ctx, "a", 1); ops.CodeOf(err) != ops.CodeClosed {
		t.Errorf("publish after Close: %v", err)
	}
}

// Subscribe-side validation: an invalid payload is reported and not delivered; a valid one is.
func TestEventsSubscribeValidation(t *testing.T) {
	ns, _ := userEvents()
	st := storetest.New(t, storetest.WithBuilder(func(b *client.Builder) *client.Builder {
		return b.AddEvents(ns, client.Validation{SkipPublish: true, Subscribe: true})
	}))
	ctx := context.Background()
	box, errs := newInbox(), newErrSink()
	if _, err := st.Events.Subscribe(ctx, "user:created", box.handler, errs.option()); err != nil {
		t.Fatal(err)
	}
	if err := st.Events.Publish(ctx, "user:created", map[string]any{"id": 1}); err != nil {
		t.Fatal(err)
	}
	if err := st.Events.Publish(ctx, "user:created", userCreated{ID: "ok"}); err != nil {
		t.Fatal(err)
	}
	if err := errs.next(t); ops.CodeOf(err) != ops.CodeSchemaValidationFailed {
		t.Fatalf("reported %v", err)
	}
	if m := box.next(t); string(m.Data) != `{"id":"ok"}` {
		t.Fatalf("delivered %s, want only the valid one", m.Data)
	}
}

// Publish, subscribe and unsubscribe pass through the middleware chain as Ops, with the event
// string as Name.
func TestEventsOpsThroughTheChain(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	mw := func(next ops.Handler) ops.Handler {
		return func(ctx context.Context, op ops.Op) (ops.Result, error) {
			res, err := next(ctx, op)
			mu.Lock()
			seen = append(seen, op.Kind.Operation()+" "+op.Name+" "+op.Key+" "+string(ops.CodeOf(err)))
			mu.Unlock()
			return res, err
		}
	}
	st := storetest.New(t, storetest.WithBuilder(func(b *client.Builder) *client.Builder { return b.Use(mw) }))
	ctx := context.Background()
	sub, err := st.Events.Subscribe(ctx, "a:*", func(context.Context, events.Message) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Events.Publish(ctx, "a:b", 1); err != nil {
		t.Fatal(err)
	}
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	_ = sub.Close()
	want := []string{
		"events.subscribe a:* igniter:store:test:events:a:* ",
		"events.publish a:b igniter:store:test:events:a:b ",
		"events.unsubscribe a:* igniter:store:test:events:a:* ",
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(seen, "\n") != strings.Join(want, "\n") {
		t.Fatalf("ops:\n%s\nwant\n%s", strings.Join(seen, "\n"), strings.Join(want, "\n"))
	}
}

// A guard that rejects the unsubscribe Op does not leave the channel subscribed.
func TestEventsUnsubscribeRejectedStillRemoves(t *testing.T) {
	reject := func(next ops.Handler) ops.Handler {
		return func(ctx context.Context, op ops.Op) (ops.Result, error) {
			if op.Kind == ops.EventsUnsubscribe {
				return ops.Result{}, ops.NewError(ops.CodeCircuitOpen, op.Kind.Operation(), "open", nil)
			}
			return next(ctx, op)
		}
	}
	st := storetest.New(t, storetest.WithBuilder(func(b *client.Builder) *client.Builder { return b.Use(reject) }))
	ctx := context.Background()
	sub, err := st.Events.Subscribe(ctx, "a:b", func(context.Context, events.Message) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	pat, err := st.Events.Subscribe(ctx, "a:*", func(context.Context, events.Message) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	channel := "igniter:store:test:events:a:b"
	if n := st.Redis.PubSubNumSub(channel)[channel]; n != 1 {
		t.Fatalf("subscribers before Close = %d", n)
	}
	if err := sub.Close(); ops.CodeOf(err) != ops.CodeCircuitOpen {
		t.Fatalf("Close = %v, want the guard's error", err)
	}
	if err := pat.Close(); ops.CodeOf(err) != ops.CodeCircuitOpen {
		t.Fatalf("Close = %v, want the guard's error", err)
	}
	// The UNSUBSCRIBE travels on the subscriber's own connection, which reports no completion:
	// poll the server's count, bounded.
	deadline := time.Now().Add(10 * time.Second)
	for st.Redis.PubSubNumSub(channel)[channel] != 0 || st.Redis.PubSubNumPat() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("still subscribed: %v, %d patterns", st.Redis.PubSubNumSub(channel), st.Redis.PubSubNumPat())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Concurrent subscribes and closes on shared channels leave the server subscribed to exactly
// the channels that still have a subscription, and those keep receiving.
func TestEventsConcurrentSubscribeClose(t *testing.T) {
	st := storetest.New(t)
	ctx := context.Background()
	keep := newInbox()
	if _, err := st.Events.Subscribe(ctx, "c:0", keep.handler); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				ev := []string{"c:0", "c:1", "c:*"}[(g+i)%3]
				sub, err := st.Events.Subscribe(ctx, ev, func(context.Context, events.Message) error { return nil })
				if err != nil {
					errs <- err
					return
				}
				if err := sub.Close(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	c0, c1 := "igniter:store:test:events:c:0", "igniter:store:test:events:c:1"
	deadline := time.Now().Add(10 * time.Second)
	for n := st.Redis.PubSubNumSub(c0, c1); n[c0] != 1 || n[c1] != 0 || st.Redis.PubSubNumPat() != 0; n = st.Redis.PubSubNumSub(c0, c1) {
		if time.Now().After(deadline) {
			t.Fatalf("server subscriptions %v, %d patterns; want only c:0", n, st.Redis.PubSubNumPat())
		}
		time.Sleep(5 * time.Millisecond) // UNSUBSCRIBE reports no completion: poll, bounded
	}
	if err := st.Events.Publish(ctx, "c:0", "still"); err != nil {
		t.Fatal(err)
	}
	if m := keep.next(t); string(m.Data) != `"still"` {
		t.Fatalf("kept subscription received %s", m.Data)
	}
}

// A handler may close its own subscription: no deadlock, and no call starts after Close.
func TestEventsHandlerClosesItsOwnSubscription(t *testing.T) {
	st := storetest.New(t)
	ctx := context.Background()
	var self events.Subscription
	ready := make(chan struct{})
	calls := make(chan error, 16)
	sub, err := st.Events.Subscribe(ctx, "a:b", func(ctx context.Context, m events.Message) error {
		<-ready
		calls <- self.Close()
		return nil
	}, events.WithBuffer(16))
	if err != nil {
		t.Fatal(err)
	}
	self = sub
	close(ready)
	for i := range 5 {
		if err := st.Events.Publish(ctx, "a:b", i); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-calls; err != nil {
		t.Fatalf("Close from the handler: %v", err)
	}
	// A subscription opened after the others were published, on the same channel, proves every
	// earlier message was dispatched; the closed one must not have run again.
	box := newInbox()
	if _, err := st.Events.Subscribe(ctx, "a:b", box.handler); err != nil {
		t.Fatal(err)
	}
	if err := st.Events.Publish(ctx, "a:b", "last"); err != nil {
		t.Fatal(err)
	}
	box.next(t)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(calls); n != 0 {
		t.Fatalf("handler ran %d more times after closing its subscription", n)
	}
}

// countingHandler is a slog.Handler that counts records.
type countingHandler struct{ n *atomic.Int64 }

func (h countingHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (h countingHandler) Handle(context.Context, slog.Record) error { h.n.Add(1); return nil }
func (h countingHandler) WithAttrs([]slog.Attr) slog.Handler        { return h }
func (h countingHandler) WithGroup(string) slog.Handler             { return h }

// A handler failing on every message does not flood the log: every failure reaches the error
// callback, the log gets at most one line per second per subscription.
func TestEventsFailureLogIsBounded(t *testing.T) {
	var lines atomic.Int64
	st := storetest.New(t, storetest.WithBuilder(func(b *client.Builder) *client.Builder {
		return b.WithLogger(slog.New(countingHandler{&lines}))
	}))
	ctx := context.Background()
	errs := newErrSink()
	if _, err := st.Events.Subscribe(ctx, "a:b", func(context.Context, events.Message) error {
		return errors.New("always")
	}, errs.option(), events.WithBuffer(128)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	const n = 100
	for i := range n {
		if err := st.Events.Publish(ctx, "a:b", i); err != nil {
			t.Fatal(err)
		}
	}
	for range n {
		if err := errs.next(t); ops.CodeOf(err) != ops.CodeHandlerFailed {
			t.Fatalf("reported %v", err)
		}
	}
	maxLines := int64(time.Since(start)/time.Second) + 1
	if got := lines.Load(); got < 1 || got > maxLines {
		t.Fatalf("%d log lines for %d failures in %v, want 1..%d", got, n, time.Since(start), maxLines)
	}
}
