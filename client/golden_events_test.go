package client_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/events"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/middleware/schema"
)

// watchPublished subscribes a plain go-redis connection to every store channel before a case
// runs; the returned check compares what was published with the case's "published" list.
func watchPublished(t *testing.T, raw *redis.Client, c goldenCase) (check func()) {
	t.Helper()
	if len(c.Published) == 0 {
		return func() {}
	}
	ctx := context.Background()
	ps := raw.PSubscribe(ctx, "igniter:store:*")
	if _, err := ps.Receive(ctx); err != nil { // the PSUBSCRIBE confirmation
		t.Fatal(err)
	}
	return func() {
		t.Helper()
		defer ps.Close()
		for _, want := range c.Published {
			msg, err := ps.ReceiveTimeout(ctx, 10*time.Second)
			if err != nil {
				t.Fatalf("published: %v", err)
			}
			m, ok := msg.(*redis.Message)
			if !ok {
				t.Fatalf("published: unexpected %T", msg)
			}
			if m.Channel != want.Channel || redistest.MaskTimestamps(m.Payload) != want.Message {
				t.Fatalf("published %s %s\nwant      %s %s", m.Channel, m.Payload, want.Channel, want.Message)
			}
		}
	}
}

// goldenEventsStore is a store on the golden server with the "user" namespace registered:
// user:created {id: string, required} and the group event user:notifications:email.
func goldenEventsStore(t *testing.T, env goldenEnv) (*client.Store, *events.Event[map[string]string]) {
	t.Helper()
	ns := events.NewNamespace("user")
	_ = events.Define[userCreated](ns, "created", schema.MustJSON(`{"type":"object","properties":{"id":{"type":"string"}},"required":["id"]}`))
	email := events.Define[map[string]string](ns.Group("notifications"), "email", nil)
	st, err := client.New().WithService("api").WithAdapter(client.Redis(env.raw)).AddEvents(ns).Build()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st, email
}

func init() {
	publish := func(scoped bool, event string, data any) goldenAction {
		return func(ctx context.Context, t *testing.T, env goldenEnv) (any, error) {
			st := env.unscoped
			if scoped {
				st = env.scoped
			}
			return nil, st.Events.Publish(ctx, event, data)
		}
	}
	for name, a := range map[string]goldenAction{
		"events.publish.unscoped": publish(false, "user:created", userCreated{ID: "u1"}),
		"events.publish.scoped":   publish(true, "user:created", userCreated{ID: "u2"}),
		"events.publish.group": func(ctx context.Context, t *testing.T, env goldenEnv) (any, error) {
			st, email := goldenEventsStore(t, env)
			return nil, email.Publish(ctx, st, map[string]string{"to": "ops-team"})
		},
		"events.publish.invalid": func(ctx context.Context, t *testing.T, env goldenEnv) (any, error) {
			st, _ := goldenEventsStore(t, env)
			return nil, st.Events.Publish(ctx, "user:created", map[string]any{"id": 1})
		},
		"events.publish.unregistered": func(ctx context.Context, t *testing.T, env goldenEnv) (any, error) {
			st, _ := goldenEventsStore(t, env)
			return nil, st.Events.Publish(ctx, "other:thing", "raw string")
		},
	} {
		goldenActions[name] = a
	}
}

// Every event message the original published in the golden file decodes in Go as an envelope
// (not legacy), and encoding the decoded envelope again gives the original's bytes exactly.
func TestGoldenEventsDecodeTheOriginal(t *testing.T) {
	const ts = "2026-11-25T17:24:02.284Z"
	n := 0
	for _, c := range loadGolden(t) {
		for _, p := range c.Published {
			n++
			original := strings.ReplaceAll(p.Message, "<ts>", ts)
			event := p.Channel[strings.LastIndex(p.Channel, ":events:")+len(":events:"):]
			m, err := events.DecodeMessage([]byte(original), event, event, time.Now())
			if err != nil || m.Legacy || m.Type != event || m.Timestamp.Format(events.TimestampLayout) != ts {
				t.Fatalf("%s: decoded %+v, %v", c.Name, m, err)
			}
			var scope events.Scope
			if m.Scope != nil {
				scope = *m.Scope
			}
			if again := string(events.AppendEnvelope(nil, m.Type, m.Data, m.Timestamp, scope, "")); again != original {
				t.Fatalf("%s: re-encoded\n%s\nwant\n%s", c.Name, again, original)
			}
		}
	}
	if n < 4 {
		t.Fatalf("only %d published messages in the golden file", n)
	}
}
