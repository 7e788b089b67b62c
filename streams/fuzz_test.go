package streams

import (
	"encoding/json"
	"maps"
	"testing"
	"unicode/utf8"
)

// FuzzStreamEntryParsing holds parseEntry to the original's rules (spec §7) for any fields a
// producer may write: the message is always JSON; it is the data field itself when that is
// non-empty JSON, and otherwise the field map, which decodes back to the fields.
func FuzzStreamEntryParsing(f *testing.F) {
	f.Add(`{"a":1}`, "", "")
	f.Add("notjson", "", "")
	f.Add("", "foo", "bar")
	f.Add("42", "trace", "00-abc-01")
	f.Add(" null ", "n", "1")
	f.Add(`"<b>&</b>"`, "x", "\u2028")
	f.Fuzz(func(t *testing.T, data, k, v string) {
		fields := map[string]string{}
		if data != "" || k == "" {
			fields[streamDataField] = data
		}
		if k != "" && k != streamDataField {
			fields[k] = v
		}
		in := maps.Clone(fields)
		e := parseEntry("1-0", fields)
		if !json.Valid(e.Message) {
			t.Fatalf("message %q is not JSON", e.Message)
		}
		if !maps.Equal(e.Fields, in) {
			t.Fatalf("fields changed: %q, want %q", e.Fields, in)
		}
		if data != "" && json.Valid([]byte(data)) {
			if string(e.Message) != data {
				t.Fatalf("message %q, want the data field %q", e.Message, data)
			}
			return
		}
		var back map[string]string
		if err := json.Unmarshal(e.Message, &back); err != nil {
			t.Fatalf("fallback message %q is not an object of strings: %v", e.Message, err)
		}
		valid := true
		for k, v := range in {
			valid = valid && utf8.ValidString(k) && utf8.ValidString(v)
		}
		if valid && !maps.Equal(back, in) { // invalid UTF-8 becomes U+FFFD, as in JavaScript
			t.Fatalf("fallback message %q decodes to %q, want the fields %q", e.Message, back, in)
		}
	})
}
