package client_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/events"
	"github.com/igniter-go/store/middleware/schema"
	"github.com/igniter-go/store/storetest"
)

type userCreated struct {
	ID string `json:"id"`
}

// userEvents is a namespace "user" with user:created (id: string, required) and the group
// user:notifications:email.
func userEvents() (*events.Namespace, *events.Event[userCreated]) {
	ns := events.NewNamespace("user")
	created := events.Define[userCreated](ns, "created", schema.MustJSON(`{"type":"object","properties":{"id":{"type":"string"}},"required":["id"]}`))
	_, _ = ns.Group("notifications").Event("email", nil)
	return ns, created
}

// inbox collects messages delivered to a handler and lets a test wait for them.
type inbox struct {
	ch chan events.Message
}

func newInbox() *inbox { return &inbox{ch: make(chan events.Message, 1024)} }

func (b *inbox) handler(ctx context.Context, m events.Message) error {
	b.ch <- m
	return nil
}

func (b *inbox) next(t *testing.T) events.Message {
	t.Helper()
	select {
	case m := <-b.ch:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no message within 10s")
	}
	return events.Message{}
}

// errSink collects the errors reported to OnError.
type errSink struct{ ch chan error }

func newErrSink() *errSink { return &errSink{ch: make(chan error, 1024)} }

func (s *errSink) option() events.SubscribeOption {
	return events.OnError(func(ctx context.Context, err error) { s.ch <- err })
}

func (s *errSink) next(t *testing.T) error {
	t.Helper()
	select {
	case err := <-s.ch:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("no error reported within 10s")
	}
	return nil
}

func TestEventsPublishSubscribeRoundTrip(t *testing.T) {
	ns, created := userEvents()
	st := storetest.New(t, storetest.WithBuilder(func(b *client.Builder) *client.Builder { return b.AddEvents(ns) }))
	ctx := context.Background()

	a, b := newInbox(), newInbox()
	subA, err := st.Events.Subscribe(ctx, "user:created", a.handler)
	if err != nil {
		t.Fatal(err)
	}
	defer subA.Close()
	subB, err := st.Events.Subscribe(ctx, "user:created", b.handler)
	if err != nil {
		t.Fatal(err)
	}
	defer subB.Close()

	if err := st.Events.Publish(ctx, "user:created", userCreated{ID: "u1"}); err != nil {
		t.Fatal(err)
	}
	for _, box := range []*inbox{a, b} {
		m := box.next(t)
		if m.Type != "user:created" || string(m.Data) != `{"id":"u1"}` || m.Scope != nil || m.Legacy || m.Event != "user:created" {
			t.Fatalf("message = %+v", m)
		}
		if time.Since(m.Timestamp) > time.Minute || m.Timestamp.Location() != time.UTC {
			t.Fatalf("timestamp = %v", m.Timestamp)
		}
	}

	// Typed handle, on a scoped store: the envelope carries the innermost scope.
	scoped := st.MustScope("organization", "org_1").MustScope("workspace", "ws_2")
	got := make(chan events.Envelope[userCreated], 1)
	sub, err := created.Subscribe(ctx, scoped, func(ctx context.Context, ev events.Envelope[userCreated]) error {
		got <- ev
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if err := created.Publish(ctx, scoped, userCreated{ID: "u2"}); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-got:
		if ev.Data.ID != "u2" || ev.Scope == nil || *ev.Scope != (events.Scope{Key: "workspace", Identifier: "ws_2"}) {
			t.Fatalf("typed envelope = %+v", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("typed subscription received nothing")
	}
	// The unscoped subscribers did not receive the scoped publish: their next message is the
	// next unscoped one.
	if err := st.Events.Publish(ctx, "user:created", userCreated{ID: "u3"}); err != nil {
		t.Fatal(err)
	}
	if m := a.next(t); !strings.Contains(string(m.Data), "u3") {
		t.Fatalf("unscoped subscriber got %s, want u3", m.Data)
	}
}

// timeout returns a channel that fires when a test has waited too long for a signal.
func timeout(t *testing.T) <-chan time.Time {
	t.Helper()
	return time.After(10 * time.Second)
}

type traceKey struct{}

// fakeCarrier carries a string stored in the ctx under traceKey.
type fakeCarrier struct{}

func (fakeCarrier) Inject(ctx context.Context) string {
	v, _ := ctx.Value(traceKey{}).(string)
	return v
}

func (fakeCarrier) Extract(ctx context.Context, carried string) context.Context {
	return context.WithValue(ctx, traceKey{}, "extracted:"+carried)
}

// Trace context travels in the envelope's extra member and reaches the handler's ctx.
func TestEventsTraceContext(t *testing.T) {
	st := storetest.New(t, storetest.WithBuilder(func(b *client.Builder) *client.Builder { return b.WithTraceCarrier(fakeCarrier{}) }))
	ctx := context.Background()
	got := make(chan string, 1)
	raw := st.Client.Subscribe(ctx, "igniter:store:test:events:a:b")
	defer raw.Close()
	if _, err := raw.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	sub, err := st.Events.Subscribe(ctx, "a:b", func(ctx context.Context, m events.Message) error {
		v, _ := ctx.Value(traceKey{}).(string)
		got <- v + " " + m.Trace
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if err := st.Events.Publish(context.WithValue(ctx, traceKey{}, "00-abc-def-01"), "a:b", 1); err != nil {
		t.Fatal(err)
	}
	select {
	case v := <-got:
		if v != "extracted:00-abc-def-01 00-abc-def-01" {
			t.Fatalf("handler ctx/trace = %q", v)
		}
	case <-timeout(t):
		t.Fatal("nothing delivered")
	}
	msg, err := raw.ReceiveMessage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(msg.Payload, `,"traceparent":"00-abc-def-01"}`) {
		t.Fatalf("envelope = %s", msg.Payload)
	}
}
