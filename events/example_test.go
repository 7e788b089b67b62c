package events_test

import (
	"fmt"
	"time"

	"github.com/igniter-go/store/events"
	"github.com/igniter-go/store/middleware/schema"
)

type Invoice struct {
	ID     string `json:"id"`
	Amount int    `json:"amount"`
}

func ExampleDefine() {
	billing := events.NewNamespace("billing")
	paid := events.Define[Invoice](billing, "invoice_paid", schema.MustJSON(`{"type":"object","required":["id"]}`))
	reminders := billing.Group("reminders")
	due := events.Define[Invoice](reminders, "due", nil)
	fmt.Println(paid.Name(), due.Name(), billing.Err())

	bad := events.Define[Invoice](billing, "invoice.paid", nil)
	fmt.Println(bad.Err())
	// Output:
	// billing:invoice_paid billing:reminders:due <nil>
	// STORE_INVALID_EVENT_NAME: Event name "invoice.paid" cannot contain dots (.). Use kebab-case for multi-word names.
}

func ExampleAppendEnvelope() {
	ts := time.Date(2026, 11, 25, 17, 24, 2, 284_000_000, time.UTC)
	scope := events.Scope{Key: "workspace", Identifier: "ws_2"}
	fmt.Println(string(events.AppendEnvelope(nil, "user:created", []byte(`{"id":"u1"}`), ts, scope, "")))
	// Output:
	// {"type":"user:created","data":{"id":"u1"},"timestamp":"2026-11-25T17:24:02.284Z","scope":{"key":"workspace","identifier":"ws_2"}}
}

func ExampleDecodeMessage() {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m, _ := events.DecodeMessage([]byte(`{"type":"zzz:other","data":1,"timestamp":"2026-11-25T17:24:02.284Z"}`), "user:created", "user:created", now)
	fmt.Println(m.Type, string(m.Data), m.Legacy)
	m, _ = events.DecodeMessage([]byte(`[1,2]`), "user:*", "user:created", now)
	fmt.Println(m.Type, string(m.Data), m.Legacy, m.Timestamp.Format(events.TimestampLayout))
	_, err := events.DecodeMessage([]byte(`not json`), "user:*", "user:created", now)
	fmt.Println(err)
	// Output:
	// zzz:other 1 false
	// user:* [1,2] true 2026-01-01T00:00:00.000Z
	// STORE_MESSAGE_INVALID: inbound message cannot be decoded: message is not JSON
}
