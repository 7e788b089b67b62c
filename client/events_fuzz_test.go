package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/events"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/storetest"
)

// FuzzEventsInbound publishes arbitrary bytes on a subscribed channel, through the whole
// receive path (decode, subscribe-side validation, typed decode, handler): every message ends in
// exactly one outcome, delivered or reported, and nothing panics or stalls.
func FuzzEventsInbound(f *testing.F) {
	for _, s := range []string{
		`{"type":"user:created","data":{"id":"u1"},"timestamp":"2026-11-25T17:24:02.284Z"}`,
		`{"type":"user:created","data":{"id":1},"timestamp":"2026-11-25T17:24:02.284Z"}`,
		`{"type":"zzz","data":"x","timestamp":0,"scope":{"key":"k","identifier":1}}`,
		`{"id":"legacy"}`, `"s"`, `12`, `null`, `not json`, `{`, "\xff", ``,
	} {
		f.Add([]byte(s))
	}
	ns, created := userEvents()
	st := storetest.New(f, storetest.WithBuilder(func(b *client.Builder) *client.Builder {
		return b.AddEvents(ns, client.Validation{Subscribe: true})
	}))
	ctx := context.Background()
	outcomes := make(chan string, 16)
	sub, err := created.Subscribe(ctx, st, func(ctx context.Context, ev events.Envelope[userCreated]) error {
		outcomes <- "delivered"
		return nil
	}, events.OnError(func(ctx context.Context, err error) {
		switch ops.CodeOf(err) {
		case ops.CodeMessageInvalid, ops.CodeSchemaValidationFailed:
			outcomes <- "reported"
		default:
			outcomes <- "unexpected " + err.Error()
		}
	}))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = sub.Close() })
	channel := "igniter:store:test:events:user:created"
	f.Fuzz(func(t *testing.T, payload []byte) {
		if err := st.Client.Publish(ctx, channel, payload).Err(); err != nil {
			t.Fatal(err)
		}
		select {
		case o := <-outcomes:
			if o != "delivered" && o != "reported" {
				t.Fatalf("%q: %s", payload, o)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%q: no outcome", payload)
		}
	})
}
