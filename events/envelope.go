package events

import (
	"bytes"
	"encoding/json"
	"time"
	"unicode/utf8"

	"github.com/igniter-go/store/internal/codec"
	"github.com/igniter-go/store/ops"
)

// TimestampLayout is the envelope timestamp format: JavaScript's Date.toISOString(), applied to
// UTC (always three fractional digits and a "Z").
const TimestampLayout = "2006-01-02T15:04:05.000Z"

// TraceField is the envelope member that carries trace context. The original ignores members it
// does not know, so a TypeScript consumer still reads the envelope.
const TraceField = "traceparent"

// Scope is the scope member of an envelope: the innermost scope of the publishing store. The
// zero Scope means unscoped (no member on the wire).
type Scope struct {
	Key        string `json:"key"`
	Identifier string `json:"identifier"`
}

// Envelope is a received event (spec §5.4–§5.5).
type Envelope[T any] struct {
	// Type is the event string the publisher put in the envelope. A foreign publisher may use a
	// type that differs from the channel's event; it is delivered as received.
	Type string
	// Data is the payload.
	Data T
	// Timestamp is the publish time (the receive time of a legacy message). It is zero when a
	// foreign envelope's timestamp is not an ISO 8601 string.
	Timestamp time.Time
	// Scope is the innermost scope of the publishing store; nil when it was unscoped.
	Scope *Scope
	// Event is the event part of the channel the message arrived on: for a pattern
	// subscription, the concrete event that matched.
	Event string
	// Legacy is true when the message was not an envelope and was wrapped as the original does:
	// Type is the subscribed event string and Timestamp the receive time.
	Legacy bool
	// Trace is the carried trace context ("" when none).
	Trace string
}

// Message is an envelope whose payload is still JSON: what the string API's handlers receive.
// Handlers share one Message per received message: do not modify Data.
type Message = Envelope[json.RawMessage]

// Decode returns the payload decoded into a T.
func Decode[T any](m Message) (Envelope[T], error) {
	out := Envelope[T]{Type: m.Type, Timestamp: m.Timestamp, Scope: m.Scope, Event: m.Event, Legacy: m.Legacy, Trace: m.Trace}
	if raw, ok := any(&out.Data).(*json.RawMessage); ok {
		*raw = m.Data
		return out, nil
	}
	if err := json.Unmarshal(m.Data, &out.Data); err != nil {
		return out, ops.NewError(ops.CodeMessageInvalid, "events.subscribe", "event payload does not decode into the handler's type", err).
			WithDetails(map[string]any{"event": m.Event})
	}
	return out, nil
}

// AppendEnvelope appends the wire bytes of an envelope to dst, byte for byte as the original's
// JSON.stringify writes them: {"type","data","timestamp"[,"scope"]}, no white space, the
// timestamp in [TimestampLayout]. data must be JSON (as [Encode] or the store's codec writes
// it). A non-empty trace is appended as a last member, [TraceField].
func AppendEnvelope(dst []byte, typ string, data []byte, ts time.Time, scope Scope, trace string) []byte {
	dst = append(dst, `{"type":`...)
	dst = appendString(dst, typ)
	dst = append(dst, `,"data":`...)
	dst = append(dst, data...)
	dst = append(dst, `,"timestamp":"`...)
	dst = ts.UTC().AppendFormat(dst, TimestampLayout)
	dst = append(dst, '"')
	if scope.Key != "" {
		dst = append(dst, `,"scope":{"key":`...)
		dst = appendString(dst, scope.Key)
		dst = append(dst, `,"identifier":`...)
		dst = appendString(dst, scope.Identifier)
		dst = append(dst, '}')
	}
	if trace != "" {
		dst = append(dst, `,"`+TraceField+`":`...)
		dst = appendString(dst, trace)
	}
	return append(dst, '}')
}

// Encode returns the envelope of data (encoded as the original's JSON: no HTML escaping). A
// value that cannot be encoded is STORE_SERIALIZATION_FAILED.
func Encode(typ string, data any, ts time.Time, scope Scope, trace string) ([]byte, error) {
	b, err := codec.Encode(data)
	if err != nil {
		return nil, ops.NewError(ops.CodeSerializationFailed, "events.publish", "Value cannot be serialized to JSON", err)
	}
	return AppendEnvelope(make([]byte, 0, envelopeSize(typ, b, scope, trace)), typ, b, ts, scope, trace), nil
}

// envelopeSize is the usual size of an envelope, to allocate once.
func envelopeSize(typ string, data []byte, scope Scope, trace string) int {
	n := len(`{"type":"","data":,"timestamp":"2026-01-01T00:00:00.000Z"}`) + len(typ) + len(data)
	if scope.Key != "" {
		n += len(`,"scope":{"key":"","identifier":""}`) + len(scope.Key) + len(scope.Identifier)
	}
	if trace != "" {
		n += len(`,"":""`) + len(TraceField) + len(trace)
	}
	return n + 8
}

// appendString appends s as a JSON string. Plain printable ASCII is copied; anything else goes
// through the codec, which escapes as JSON.stringify does.
func appendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			b, _ := codec.Encode(s) // a string always encodes
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// DecodeMessage reads an inbound message as the original does (spec §5.5). subscribed is the
// event string of the subscription (a pattern's, with its '*'), event the concrete event of the
// channel, now the receive time.
//
//   - A JSON object with the members "type", "data" and "timestamp" is an envelope and is
//     returned as received (a foreign type included). Its type must be a string; its timestamp
//     is parsed when it is an ISO 8601 string and left zero otherwise; its scope is read when it
//     is an object with string key and identifier.
//   - Any other JSON value (object, array, string, number, boolean, null) is a legacy message
//     and is wrapped: Type = subscribed, Data = the message, Timestamp = now, no scope.
//   - Anything that is not JSON, or an envelope whose type is not a string, is
//     STORE_MESSAGE_INVALID: reported, never delivered.
//
// The returned Data aliases payload: the caller hands over a payload it no longer writes.
func DecodeMessage(payload []byte, subscribed, event string, now time.Time) (Message, error) {
	trimmed := bytes.Trim(payload, " \t\r\n") // JSON white space only
	if !json.Valid(trimmed) {
		return Message{}, invalidMessage(event, errNotJSON)
	}
	if trimmed[0] == '{' {
		var typ, data, ts, scope, trace []byte
		for it := newMembers(trimmed); it.next(); {
			switch string(it.name) {
			case "type":
				typ = it.value
			case "data":
				data = it.value
			case "timestamp":
				ts = it.value
			case "scope":
				scope = it.value
			case TraceField:
				trace = it.value
			}
		}
		if typ != nil && data != nil && ts != nil {
			return envelopeOf(typ, data, ts, scope, trace, event)
		}
	}
	return Message{Type: subscribed, Data: json.RawMessage(trimmed), Timestamp: now, Event: event, Legacy: true}, nil
}

// envelopeOf reads the members of an envelope (spec §5.5).
func envelopeOf(typ, data, ts, scope, trace []byte, event string) (Message, error) {
	m := Message{Data: data, Event: event}
	if typ[0] != '"' {
		return Message{}, invalidMessage(event, errTypeNotString)
	}
	m.Type = jsonString(typ)
	if ts[0] == '"' {
		if t, err := time.Parse(time.RFC3339Nano, jsonString(ts)); err == nil {
			m.Timestamp = t
		}
	}
	if len(scope) > 0 && scope[0] == '{' {
		var key, id []byte
		for it := newMembers(scope); it.next(); {
			switch string(it.name) {
			case "key":
				key = it.value
			case "identifier":
				id = it.value
			}
		}
		if len(key) > 0 && key[0] == '"' && len(id) > 0 {
			switch {
			case id[0] == '"':
				m.Scope = &Scope{Key: jsonString(key), Identifier: jsonString(id)}
			case id[0] == '-' || id[0] >= '0' && id[0] <= '9': // the original's types allow numeric ids
				var f float64
				if json.Unmarshal(id, &f) == nil {
					b, _ := json.Marshal(f) // ES6 number formatting: String(42) = "42"
					m.Scope = &Scope{Key: jsonString(key), Identifier: string(b)}
				}
			}
		}
	}
	if len(trace) > 0 && trace[0] == '"' {
		m.Trace = jsonString(trace)
	}
	return m, nil
}

// jsonString decodes a JSON string token.
func jsonString(tok []byte) string {
	if s, ok := plainString(tok); ok && utf8.Valid(s) {
		return string(s)
	}
	var s string
	_ = json.Unmarshal(tok, &s)
	return s
}

type decodeError string

func (e decodeError) Error() string { return string(e) }

const (
	errNotJSON       = decodeError("message is not JSON")
	errTypeNotString = decodeError("envelope type is not a string")
)

func invalidMessage(event string, cause error) error {
	return ops.NewError(ops.CodeMessageInvalid, "events.subscribe", "inbound message cannot be decoded", cause).
		WithDetails(map[string]any{"event": event})
}

// The causes of a STORE_MESSAGE_INVALID that the subscriber reports before decoding a message's
// data; errors.Is finds them in the reported error.
var (
	// ErrTypeMismatch: the envelope's "type" is not the event of the channel it arrived on. The
	// channel decides the event; the sender's type is not trusted (and not repeated in the error).
	ErrTypeMismatch = decodeError("envelope type does not match its channel's event")
	// ErrPayloadTooLarge: the message is larger than the store's maximum inbound payload; it
	// was dropped without being decoded.
	ErrPayloadTooLarge = decodeError("message larger than the maximum inbound payload")
)
