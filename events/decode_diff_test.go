package events_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/igniter-go/store/events"
)

// referenceDecode is DecodeMessage written the slow, obvious way (maps of raw members), to hold
// the allocation-free scanner to the same results.
func referenceDecode(payload []byte, subscribed string, now time.Time) (events.Message, bool) {
	var v any
	if decodeNumbers(payload, &v) != nil {
		return events.Message{}, false
	}
	var members map[string]json.RawMessage
	if _, isObject := v.(map[string]any); !isObject || json.Unmarshal(payload, &members) != nil {
		var compact json.RawMessage
		_ = json.Unmarshal(payload, &compact)
		return events.Message{Type: subscribed, Data: compact, Timestamp: now, Legacy: true}, true
	}
	typ, hasType := members["type"]
	data, hasData := members["data"]
	ts, hasTS := members["timestamp"]
	if !hasType || !hasData || !hasTS {
		return events.Message{Type: subscribed, Data: payload, Timestamp: now, Legacy: true}, true
	}
	m := events.Message{Data: data}
	if typ[0] != '"' || json.Unmarshal(typ, &m.Type) != nil {
		return events.Message{}, false
	}
	var s string
	if ts[0] == '"' && json.Unmarshal(ts, &s) == nil {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			m.Timestamp = t
		}
	}
	var scope map[string]json.RawMessage
	if raw, ok := members["scope"]; ok && raw[0] == '{' && json.Unmarshal(raw, &scope) == nil {
		key, id := scope["key"], scope["identifier"]
		var k string
		if len(key) > 0 && key[0] == '"' && json.Unmarshal(key, &k) == nil && len(id) > 0 {
			var idv any
			_ = json.Unmarshal(id, &idv)
			switch x := idv.(type) {
			case string:
				m.Scope = &events.Scope{Key: k, Identifier: x}
			case float64:
				b, _ := json.Marshal(x)
				m.Scope = &events.Scope{Key: k, Identifier: string(b)}
			}
		}
	}
	if raw, ok := members["traceparent"]; ok && raw[0] == '"' {
		_ = json.Unmarshal(raw, &m.Trace)
	}
	return m, true
}

// decodeNumbers is json.Unmarshal keeping numbers as json.Number: JSON.parse accepts numbers
// beyond float64's range (as Infinity), so the reference must too.
func decodeNumbers(b []byte, v *any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	if _, err := d.Token(); err != io.EOF {
		return errors.New("trailing data")
	}
	return nil
}

func FuzzDecodeMessageMatchesReference(f *testing.F) {
	for _, s := range []string{
		`{"type":"user:created","data":{"id":"u1"},"timestamp":"2026-11-25T17:24:02.284Z","scope":{"key":"workspace","identifier":"ws_2"}}`,
		`{"typ\u0065":"a","data":[1,{"x":"}"}],"timestamp":"2026\u002d11-25T17:24:02.284Z","type":"b"}`,
		`{"type":"a","data":1,"timestamp":"x","scope":{"key":"user","identifier":-4.5e3},"traceparent":"t\"p"}`,
		` {"type":"a" , "data" : null , "timestamp" : 1 } `, `{"scope":{"KEY":"a"}}`, `"s"`, `[1]`, `{}`, `{"a":{}}`,
	} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, payload []byte) {
		got, err := events.DecodeMessage(payload, "sub", "ev", now)
		want, ok := referenceDecode(payload, "sub", now)
		if (err == nil) != ok {
			t.Fatalf("%q: err %v, reference ok %v", payload, err, ok)
		}
		if !ok {
			return
		}
		if got.Type != want.Type || got.Legacy != want.Legacy || !got.Timestamp.Equal(want.Timestamp) || got.Trace != want.Trace ||
			(got.Scope == nil) != (want.Scope == nil) || (got.Scope != nil && *got.Scope != *want.Scope) {
			t.Fatalf("%q:\n got %+v\nwant %+v", payload, got, want)
		}
		var g, w any
		if decodeNumbers(got.Data, &g) != nil || decodeNumbers(want.Data, &w) != nil {
			t.Fatalf("%q: data not JSON: %q / %q", payload, got.Data, want.Data)
		}
		gb, _ := json.Marshal(g)
		wb, _ := json.Marshal(w)
		if string(gb) != string(wb) {
			t.Fatalf("%q: data %s, want %s", payload, got.Data, want.Data)
		}
	})
}
