package client_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/events"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/middleware/schema"
	"github.com/igniter-go/store/ops"
)

type invoice struct {
	ID     string  `json:"id"`
	Amount float64 `json:"amount"`
}

// reliableEventsStore builds a store (service "api") on a fresh redis-server with the billing
// namespace (billing:paid requires id and amount), subscribe-side validation on, a captured log
// and an observer forwarding message_invalid signals.
func reliableEventsStore(t *testing.T, extra func(*client.Builder) *client.Builder) (*client.Store, *redis.Client, *events.Event[invoice], *redistest.LogBuffer, chan ops.Signal) {
	t.Helper()
	srv := redistest.Start(t)
	billing := events.NewNamespace("billing")
	paid := events.Define[invoice](billing, "paid", schema.MustJSON(
		`{"type":"object","properties":{"id":{"type":"string"},"amount":{"type":"number"}},"required":["id","amount"]}`))
	logs := &redistest.LogBuffer{}
	obs, invalid := signalsOf(ops.SignalMessageInvalid)
	b := client.New().WithService("api").WithAdapter(client.Redis(srv.Client(t))).
		AddEvents(billing, client.Validation{Subscribe: true}).
		WithLogger(slog.New(slog.NewTextHandler(logs, nil))).WithObserver(obs)
	if extra != nil {
		b = extra(b)
	}
	st, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st, srv.Client(t), paid, logs, invalid
}

const forgedType = "forged-type-zq9"

// TestReliabilityEventChannelDecidesType: the channel, not the sender's "type", decides the
// event. An envelope whose type disagrees with its channel is reported (coded error, signal) and
// reaches no handler, and the sender's type appears in no error and no log line. Before the fix
// the schema was looked up by the forged type, nothing was validated, and the typed handler got a
// zero invoice.
func TestReliabilityEventChannelDecidesType(t *testing.T) {
	st, raw, paid, logs, invalid := reliableEventsStore(t, nil)
	ctx := context.Background()
	got := make(chan invoice, 16)
	errs := newErrSink()
	if _, err := paid.Subscribe(ctx, st, func(_ context.Context, ev events.Envelope[invoice]) error {
		got <- ev.Data
		return nil
	}, errs.option()); err != nil {
		t.Fatal(err)
	}
	pattern := newInbox()
	if _, err := st.Events.Subscribe(ctx, "billing:*", pattern.handler); err != nil {
		t.Fatal(err)
	}
	forged := `{"type":"` + forgedType + `","data":{},"timestamp":"2026-01-01T00:00:00.000Z"}`
	if err := raw.Publish(ctx, "igniter:store:api:events:billing:paid", forged).Err(); err != nil {
		t.Fatal(err)
	}
	if err := paid.Publish(ctx, st, invoice{ID: "i1", Amount: 42}); err != nil {
		t.Fatal(err)
	}
	if inv := <-got; inv != (invoice{ID: "i1", Amount: 42}) {
		t.Fatalf("typed handler received %+v first: the forged envelope got through", inv)
	}
	if m := pattern.next(t); m.Type != "billing:paid" || !strings.Contains(string(m.Data), "i1") {
		t.Fatalf("pattern handler received %+v first: the forged envelope got through", m)
	}
	err := errs.next(t)
	if ops.CodeOf(err) != ops.CodeMessageInvalid || !errors.Is(err, events.ErrTypeMismatch) {
		t.Fatalf("reported %v, want STORE_MESSAGE_INVALID wrapping events.ErrTypeMismatch", err)
	}
	select {
	case s := <-invalid:
		if s.Name != "billing:paid" || ops.CodeOf(s.Err) != ops.CodeMessageInvalid {
			t.Fatalf("signal %+v", s)
		}
	case <-timeout(t):
		t.Fatal("no message_invalid signal")
	}
	for _, text := range []string{err.Error(), logs.String()} {
		if strings.Contains(text, forgedType) {
			t.Fatalf("the sender's type reached an error or the log: %s", text)
		}
	}
	if !strings.Contains(logs.String(), "billing:paid") {
		t.Fatalf("the log does not name the channel's event: %s", logs.String())
	}
}

// TestReliabilityCloseFromCallbacks: callbacks never run on the receive goroutine, so
// Store.Close from OnError returns (it deadlocked: Close waited for the receive loop that was
// running the callback), Store.Close from a handler does not wait for that handler, and a
// blocking OnError stalls only its own subscription.
func TestReliabilityCloseFromCallbacks(t *testing.T) {
	t.Run("Store.Close from OnError", func(t *testing.T) {
		st, raw, _, _, _ := reliableEventsStore(t, nil)
		ctx := context.Background()
		closed := make(chan error, 1)
		if _, err := st.Events.Subscribe(ctx, "a:b", func(context.Context, events.Message) error { return nil },
			events.OnError(func(context.Context, error) { closed <- st.Close() })); err != nil {
			t.Fatal(err)
		}
		if err := raw.Publish(ctx, "igniter:store:api:events:a:b", "{not json").Err(); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-closed:
			if err != nil {
				t.Fatalf("Close from OnError: %v", err)
			}
		case <-time.After(5 * time.Second): // a deadlock detector, not a speed check
			t.Fatal("Store.Close called from OnError did not return: deadlock")
		}
	})
	t.Run("Store.Close from a handler", func(t *testing.T) {
		st, _, _, logs, _ := reliableEventsStore(t, nil)
		ctx := context.Background()
		closed := make(chan error, 1)
		if _, err := st.Events.Subscribe(ctx, "a:b", func(context.Context, events.Message) error {
			closed <- st.Close()
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := st.Events.Publish(ctx, "a:b", 1); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-closed:
			if err != nil {
				t.Fatalf("Close from a handler: %v", err)
			}
		case <-time.After(5 * time.Second): // below the 10 s grace Close gives other handlers
			t.Fatal("Store.Close called from a handler waited for that handler")
		}
		if strings.Contains(logs.String(), "still running") {
			t.Fatalf("Close reported the calling handler as hung: %s", logs.String())
		}
	})
	t.Run("a blocking OnError stalls nobody else", func(t *testing.T) {
		st, raw, _, _, _ := reliableEventsStore(t, nil)
		ctx := context.Background()
		release := make(chan struct{})
		defer close(release)
		entered := make(chan struct{}, 1)
		if _, err := st.Events.Subscribe(ctx, "a:b", func(context.Context, events.Message) error { return nil },
			events.OnError(func(context.Context, error) { entered <- struct{}{}; <-release })); err != nil {
			t.Fatal(err)
		}
		other := newInbox()
		if _, err := st.Events.Subscribe(ctx, "c:d", other.handler); err != nil {
			t.Fatal(err)
		}
		if err := raw.Publish(ctx, "igniter:store:api:events:a:b", "{not json").Err(); err != nil {
			t.Fatal(err)
		}
		if err := st.Events.Publish(ctx, "c:d", "through"); err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-other.ch:
			if string(m.Data) != `"through"` {
				t.Fatalf("got %s", m.Data)
			}
		case <-time.After(5 * time.Second): // a stall detector, not a speed check
			t.Fatal("a blocked OnError of one subscription stalled another subscription")
		}
		<-entered
	})
}

// TestReliabilityInboundPayloadLimit: a message larger than the store's maximum inbound payload
// is dropped before it is decoded, counted, and reported; the next one is delivered. The default
// limit is 1 MiB.
func TestReliabilityInboundPayloadLimit(t *testing.T) {
	st, raw, _, logs, invalid := reliableEventsStore(t, func(b *client.Builder) *client.Builder { return b.WithMaxPayload(1024) })
	ctx := context.Background()
	box, errs := newInbox(), newErrSink()
	if _, err := st.Events.Subscribe(ctx, "a:b", box.handler, errs.option()); err != nil {
		t.Fatal(err)
	}
	big := "{not json" + strings.Repeat("x", 1024) // undecodable: a decode would report errNotJSON
	if err := raw.Publish(ctx, "igniter:store:api:events:a:b", big).Err(); err != nil {
		t.Fatal(err)
	}
	if err := st.Events.Publish(ctx, "a:b", "small"); err != nil {
		t.Fatal(err)
	}
	if m := box.next(t); string(m.Data) != `"small"` {
		t.Fatalf("delivered %.40s…", m.Data)
	}
	err := errs.next(t)
	if ops.CodeOf(err) != ops.CodeMessageInvalid || !errors.Is(err, events.ErrPayloadTooLarge) {
		t.Fatalf("reported %v, want STORE_MESSAGE_INVALID wrapping events.ErrPayloadTooLarge", err)
	}
	if s := <-invalid; !errors.Is(s.Err, events.ErrPayloadTooLarge) || s.Name != "a:b" {
		t.Fatalf("signal %+v", s)
	}
	if strings.Contains(logs.String(), "xxxx") {
		t.Fatal("the payload reached the log")
	}

	// The default: 1 MiB passes, one byte more does not.
	def, raw2, _, _, _ := reliableEventsStore(t, nil)
	box2, errs2 := newInbox(), newErrSink()
	if _, err := def.Events.Subscribe(ctx, "a:b", box2.handler, errs2.option()); err != nil {
		t.Fatal(err)
	}
	body := strings.Repeat("y", client.DefaultMaxPayload-2)
	for _, p := range []string{`"` + body + `"`, `"` + body + `y"`} {
		if err := raw2.Publish(ctx, "igniter:store:api:events:a:b", p).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if m := box2.next(t); len(m.Data) != client.DefaultMaxPayload {
		t.Fatalf("a payload of exactly DefaultMaxPayload was not delivered (got %d bytes)", len(m.Data))
	}
	if err := errs2.next(t); !errors.Is(err, events.ErrPayloadTooLarge) {
		t.Fatalf("a payload one byte over the default: %v", err)
	}
}
