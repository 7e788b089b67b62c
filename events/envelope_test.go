package events_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/igniter-go/store/events"
	"github.com/igniter-go/store/ops"
)

var ts = time.Date(2026, 11, 25, 17, 24, 2, 284_000_000, time.UTC)

// The bytes the original publishes (spec §5.4, recorded on the wire).
func TestEnvelopeBytesAsTheOriginal(t *testing.T) {
	for _, c := range []struct {
		name  string
		typ   string
		data  any
		scope events.Scope
		trace string
		want  string
	}{
		{"unscoped", "user:created", map[string]string{"id": "u1"}, events.Scope{}, "",
			`{"type":"user:created","data":{"id":"u1"},"timestamp":"2026-11-25T17:24:02.284Z"}`},
		{"two-level scoped: last scope only", "user:created", map[string]string{"id": "u2"}, events.Scope{Key: "workspace", Identifier: "ws_2"}, "",
			`{"type":"user:created","data":{"id":"u2"},"timestamp":"2026-11-25T17:24:02.284Z","scope":{"key":"workspace","identifier":"ws_2"}}`},
		{"raw string data", "other:thing", "raw string", events.Scope{}, "",
			`{"type":"other:thing","data":"raw string","timestamp":"2026-11-25T17:24:02.284Z"}`},
		{"no HTML escaping, unicode as is", "a:b", "<b>&</b> ção✓", events.Scope{}, "",
			`{"type":"a:b","data":"<b>&</b> ção✓","timestamp":"2026-11-25T17:24:02.284Z"}`},
		{"null data", "a:b", nil, events.Scope{}, "",
			`{"type":"a:b","data":null,"timestamp":"2026-11-25T17:24:02.284Z"}`},
		{"escaped type", "a\"b\\c<", 1, events.Scope{}, "",
			`{"type":"a\"b\\c<","data":1,"timestamp":"2026-11-25T17:24:02.284Z"}`},
		{"trace context last", "a:b", 1, events.Scope{Key: "org", Identifier: "1"}, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
			`{"type":"a:b","data":1,"timestamp":"2026-11-25T17:24:02.284Z","scope":{"key":"org","identifier":"1"},"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}`},
	} {
		got, err := events.Encode(c.typ, c.data, ts, c.scope, c.trace)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if string(got) != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}

func TestEnvelopeTimestampIsUTCMillis(t *testing.T) {
	local := time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("X", 5*3600))
	got := string(events.AppendEnvelope(nil, "a", []byte("1"), local, events.Scope{}, ""))
	if !strings.Contains(got, `"timestamp":"2026-01-01T22:04:05.000Z"`) {
		t.Fatalf("timestamp not UTC with 3 digits: %s", got)
	}
}

func TestEncodeUnencodable(t *testing.T) {
	_, err := events.Encode("a", func() {}, ts, events.Scope{}, "")
	if ops.CodeOf(err) != ops.CodeSerializationFailed || !errors.Is(err, ops.ErrInvalid) {
		t.Fatalf("err = %v", err)
	}
}

// Inbound decoding as spec §5.5: envelopes as received (foreign types too), legacy wrapping,
// non-JSON reported.
func TestDecodeMessageAsTheOriginal(t *testing.T) {
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	published := time.Date(2026, 11, 25, 17, 24, 2, 284_000_000, time.UTC)
	for _, c := range []struct {
		name, payload, subscribed string
		want                      events.Message
		code                      ops.Code
	}{
		{name: "original unscoped envelope", subscribed: "user:created",
			payload: `{"type":"user:created","data":{"id":"u1"},"timestamp":"2026-11-25T17:24:02.284Z"}`,
			want:    events.Message{Type: "user:created", Data: json.RawMessage(`{"id":"u1"}`), Timestamp: published}},
		{name: "original scoped envelope", subscribed: "user:created",
			payload: `{"type":"user:created","data":{"id":"u2"},"timestamp":"2026-11-25T17:24:02.284Z","scope":{"key":"workspace","identifier":"ws_2"}}`,
			want:    events.Message{Type: "user:created", Data: json.RawMessage(`{"id":"u2"}`), Timestamp: published, Scope: &events.Scope{Key: "workspace", Identifier: "ws_2"}}},
		{name: "foreign type passes through", subscribed: "user:created",
			payload: `{"type":"zzz:other","data":[1],"timestamp":"2026-11-25T17:24:02.284Z"}`,
			want:    events.Message{Type: "zzz:other", Data: json.RawMessage(`[1]`), Timestamp: published}},
		{name: "envelope with null data and odd timestamp", subscribed: "a",
			payload: `{"type":"a","data":null,"timestamp":12}`,
			want:    events.Message{Type: "a", Data: json.RawMessage(`null`)}},
		{name: "unknown members ignored, trace read", subscribed: "a",
			payload: `{"extra":true,"type":"a","data":1,"timestamp":"2026-11-25T17:24:02.284Z","traceparent":"tp"}`,
			want:    events.Message{Type: "a", Data: json.RawMessage(`1`), Timestamp: published, Trace: "tp"}},
		{name: "numeric scope id", subscribed: "a",
			payload: `{"type":"a","data":1,"timestamp":"x","scope":{"key":"user","identifier":42}}`,
			want:    events.Message{Type: "a", Data: json.RawMessage(`1`), Scope: &events.Scope{Key: "user", Identifier: "42"}}},
		{name: "legacy object (no timestamp)", subscribed: "user:*",
			payload: `{"type":"user:created","data":1}`,
			want:    events.Message{Type: "user:*", Data: json.RawMessage(`{"type":"user:created","data":1}`), Timestamp: now, Legacy: true}},
		{name: "member names are case-sensitive", subscribed: "s",
			payload: `{"Type":"a","Data":1,"Timestamp":"x"}`,
			want:    events.Message{Type: "s", Data: json.RawMessage(`{"Type":"a","Data":1,"Timestamp":"x"}`), Timestamp: now, Legacy: true}},
		{name: "legacy string", subscribed: "s", payload: `"hello"`,
			want: events.Message{Type: "s", Data: json.RawMessage(`"hello"`), Timestamp: now, Legacy: true}},
		{name: "legacy number", subscribed: "s", payload: ` 42 `,
			want: events.Message{Type: "s", Data: json.RawMessage(`42`), Timestamp: now, Legacy: true}},
		{name: "legacy array", subscribed: "s", payload: `[1,"a"]`,
			want: events.Message{Type: "s", Data: json.RawMessage(`[1,"a"]`), Timestamp: now, Legacy: true}},
		{name: "legacy null", subscribed: "s", payload: `null`,
			want: events.Message{Type: "s", Data: json.RawMessage(`null`), Timestamp: now, Legacy: true}},
		{name: "not JSON", subscribed: "s", payload: `hello`, code: ops.CodeMessageInvalid},
		{name: "broken object", subscribed: "s", payload: `{"type":`, code: ops.CodeMessageInvalid},
		{name: "empty", subscribed: "s", payload: ``, code: ops.CodeMessageInvalid},
		{name: "envelope type not a string", subscribed: "s", payload: `{"type":5,"data":1,"timestamp":"x"}`, code: ops.CodeMessageInvalid},
	} {
		got, err := events.DecodeMessage([]byte(c.payload), c.subscribed, "ev", now)
		if c.code != "" {
			if ops.CodeOf(err) != c.code || !errors.Is(err, ops.ErrFailed) {
				t.Errorf("%s: err = %v, want %s", c.name, err, c.code)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		c.want.Event = "ev"
		if got.Type != c.want.Type || string(got.Data) != string(c.want.Data) || !got.Timestamp.Equal(c.want.Timestamp) ||
			got.Legacy != c.want.Legacy || got.Trace != c.want.Trace || got.Event != c.want.Event ||
			(got.Scope == nil) != (c.want.Scope == nil) || (got.Scope != nil && *got.Scope != *c.want.Scope) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, c.want)
		}
	}
}

func TestDecodeTyped(t *testing.T) {
	m := events.Message{Type: "a", Data: json.RawMessage(`{"id":"x","amount":3}`)}
	ev, err := events.Decode[Invoice](m)
	if err != nil || ev.Data != (Invoice{ID: "x", Amount: 3}) || ev.Type != "a" {
		t.Fatalf("%+v %v", ev, err)
	}
	if _, err := events.Decode[Invoice](events.Message{Data: json.RawMessage(`"str"`)}); ops.CodeOf(err) != ops.CodeMessageInvalid {
		t.Fatalf("decode into wrong type: %v", err)
	}
	raw, err := events.Decode[json.RawMessage](m)
	if err != nil || string(raw.Data) != string(m.Data) {
		t.Fatalf("raw: %s %v", raw.Data, err)
	}
}

// Encoding then decoding gives back what was published.
func TestEnvelopeRoundTrip(t *testing.T) {
	b, err := events.Encode("user:created", Invoice{ID: "i", Amount: 2}, ts, events.Scope{Key: "org", Identifier: "o1"}, "tp")
	if err != nil {
		t.Fatal(err)
	}
	m, err := events.DecodeMessage(b, "user:created", "user:created", time.Now())
	if err != nil || m.Legacy || m.Type != "user:created" || !m.Timestamp.Equal(ts) || m.Trace != "tp" || m.Scope.Identifier != "o1" {
		t.Fatalf("%+v %v", m, err)
	}
}

func FuzzDecodeMessage(f *testing.F) {
	for _, s := range []string{
		`{"type":"user:created","data":{"id":"u1"},"timestamp":"2026-11-25T17:24:02.284Z"}`,
		`{"type":"a","data":1,"timestamp":"x","scope":{"key":"user","identifier":42},"traceparent":"t"}`,
		`{"type":5,"data":1,"timestamp":"x"}`, `"s"`, `42`, `[1]`, `null`, `{`, ``, `not json`, `{"scope":[]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		m, err := events.DecodeMessage(payload, "sub:*", "sub:x", ts)
		if err != nil {
			if ops.CodeOf(err) != ops.CodeMessageInvalid {
				t.Fatalf("uncoded error %v", err)
			}
			return
		}
		if !json.Valid(m.Data) {
			t.Fatalf("delivered data is not JSON: %q", m.Data)
		}
		if m.Legacy && m.Type != "sub:*" {
			t.Fatalf("legacy type %q", m.Type)
		}
		// What decodes re-encodes to an envelope that decodes to the same type and data.
		again, err := events.DecodeMessage(events.AppendEnvelope(nil, m.Type, m.Data, ts, events.Scope{}, ""), "x", "x", ts)
		if err != nil || again.Type != m.Type || again.Legacy {
			t.Fatalf("re-encoded envelope: %+v %v", again, err)
		}
	})
}
