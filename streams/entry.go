package streams

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/igniter-go/store/internal/codec"
	"github.com/igniter-go/store/ops"
)

// streamDataField is the entry field that holds the message as JSON, as the original writes it.
const streamDataField = "data"

// Entry is one stream entry as [Streams.Range] and [Group.Read] return it. It
// marshals to JSON as the original's {id, message}.
type Entry struct {
	// ID is the entry's Redis id ("1700000000000-0").
	ID string `json:"id"`
	// Message is the entry's message as JSON, parsed as the original parses it: the data field
	// when it holds JSON; otherwise (no data field, an empty one, or one that is not JSON) the
	// entry's whole field map as a JSON object of strings, e.g. {"data":"notjson"}.
	Message json.RawMessage `json:"message"`
	// Fields are the entry's fields as stored.
	Fields map[string]string `json:"-"`
}

// Decode stores the entry's message into dst (a non-nil pointer, as for json.Unmarshal). A
// message that does not fit dst is STORE_DESERIALIZATION_FAILED.
func (e Entry) Decode(dst any) error {
	return codec.DecodeFor(ops.StreamRead, e.Message, dst)
}

// Message is a stream entry whose message is decoded into a T: [RangeAs], [ReadAs] and
// [ConsumeAs] return them.
type Message[T any] struct {
	// ID is the entry's Redis id.
	ID string
	// Message is the decoded message; T's zero value when Err is set.
	Message T
	// Fields are the entry's fields as stored.
	Fields map[string]string
	// Err is why the message could not be decoded into a T (STORE_DESERIALIZATION_FAILED), or nil.
	Err error
}

// RangeAs is [Streams.Range] with each message decoded into a T. Every entry is returned; one
// whose message does not decode carries its error in Err, and the first such error is returned
// too. An entry larger than the store's maximum inbound payload (client.Builder.WithMaxPayload)
// is not decoded: its Err is STORE_MESSAGE_INVALID wrapping [ErrEntryTooLarge]. (Range and Read
// return entries as stored, whatever their size.)
func RangeAs[T any](ctx context.Context, st Streams, stream string, opts RangeOptions) ([]Message[T], error) {
	entries, err := st.Range(ctx, stream, opts)
	if err != nil {
		return nil, err
	}
	return decodeAll[T](entries, st.store().MaxPayload())
}

// ReadAs is [Group.Read] with each message decoded into a T. Every entry read is returned
// (it is pending until acked, so none is lost); one whose message does not decode carries its
// error in Err, and the first such error is returned too. An entry larger than the store's
// maximum inbound payload is not decoded, as in [RangeAs].
func ReadAs[T any](ctx context.Context, g Group, stream string, opts ReadOptions) ([]Message[T], error) {
	entries, err := g.Read(ctx, stream, opts)
	if err != nil {
		return nil, err
	}
	return decodeAll[T](entries, g.s.MaxPayload())
}

// decodeAll decodes every entry; one larger than maxPayload is not decoded: its Err is
// STORE_MESSAGE_INVALID wrapping ErrEntryTooLarge.
func decodeAll[T any](entries []Entry, maxPayload int) ([]Message[T], error) {
	out := make([]Message[T], len(entries))
	var first error
	for i, e := range entries {
		if n := entrySize(ops.Entry{Fields: e.Fields}); n > maxPayload {
			out[i] = Message[T]{ID: e.ID, Fields: e.Fields, Err: errEntryTooLarge(n, maxPayload)}
		} else {
			out[i] = decodeMessage[T](e)
		}
		if first == nil {
			first = out[i].Err
		}
	}
	return out, first
}

func decodeMessage[T any](e Entry) Message[T] {
	m := Message[T]{ID: e.ID, Fields: e.Fields}
	if err := e.Decode(&m.Message); err != nil {
		var zero T
		m.Message, m.Err = zero, err
	}
	return m
}

func parseEntries(entries []ops.Entry) []Entry {
	if len(entries) == 0 {
		return []Entry{}
	}
	out := make([]Entry, len(entries))
	for i, e := range entries {
		out[i] = parseEntry(e.ID, e.Fields)
	}
	return out
}

// parseEntry parses an entry as the original does (spec §7): the data field's JSON when it is
// present, non-empty and JSON; otherwise the whole field map.
func parseEntry(id string, fields map[string]string) Entry {
	if fields == nil {
		fields = map[string]string{}
	}
	return Entry{ID: id, Message: entryMessage(fields), Fields: fields}
}

func entryMessage(fields map[string]string) json.RawMessage {
	if data := fields[streamDataField]; data != "" && json.Valid([]byte(data)) {
		return json.RawMessage(data)
	}
	b, err := codec.Encode(fields)
	if err != nil { // a map of strings always encodes; keep the contract of valid JSON anyway
		return json.RawMessage("{}")
	}
	return b
}

// errIsMessageInvalid reports whether err says the message itself is bad, so delivering it again
// cannot help.
func errIsMessageInvalid(err error) bool {
	return errors.Is(err, &ops.Error{Code: ops.CodeMessageInvalid}) || errors.Is(err, &ops.Error{Code: ops.CodeDeserializationFailed})
}
