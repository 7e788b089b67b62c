package codec_test

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/igniter-go/store/internal/codec"
)

func TestEncodeIsJSONStringifyBytes(t *testing.T) {
	type obj struct {
		Name string  `json:"name"`
		HTML string  `json:"html"`
		Uni  string  `json:"uni"`
		N    float64 `json:"n"`
		List []any   `json:"list"`
	}
	for _, tc := range []struct {
		v    any
		want string
	}{
		{obj{"Avery", "<b>&</b>", "ção✓", 1.5, []any{1, "a", nil}}, `{"name":"Avery","html":"<b>&</b>","uni":"ção✓","n":1.5,"list":[1,"a",null]}`},
		{"plain", `"plain"`},
		{42, `42`},
		{nil, `null`},
		{map[string]any{"b": 1, "a": 2}, `{"a":2,"b":1}`},
	} {
		got, err := codec.Encode(tc.v)
		if err != nil || string(got) != tc.want {
			t.Errorf("Encode(%v) = %s, %v; want %s", tc.v, got, err, tc.want)
		}
	}
	if _, err := codec.Encode(math.Inf(1)); err == nil {
		t.Error("Inf must not encode")
	}
	if _, err := codec.Encode(make(chan int)); err == nil {
		t.Error("chan must not encode")
	}
}

func TestDecodeFallsBackToTheRawString(t *testing.T) {
	var s string
	if err := codec.Decode([]byte("not json"), &s); err != nil || s != "not json" {
		t.Fatalf("string: %q %v", s, err)
	}
	var a any
	if err := codec.Decode([]byte("not json"), &a); err != nil || a != "not json" {
		t.Fatalf("any: %v %v", a, err)
	}
	var raw json.RawMessage
	if err := codec.Decode([]byte("not json"), &raw); err != nil || string(raw) != `"not json"` {
		t.Fatalf("raw: %s %v", raw, err)
	}
	type named string
	var n named
	if err := codec.Decode([]byte("x y"), &n); err != nil || n != "x y" {
		t.Fatalf("named: %q %v", n, err)
	}
	var m map[string]int
	if err := codec.Decode([]byte("not json"), &m); err == nil {
		t.Fatal("a map target must get the syntax error")
	}
	var i int
	if err := codec.Decode([]byte(`"str"`), &i); err == nil {
		t.Fatal("type mismatch must fail")
	}
	if err := codec.Decode([]byte(`42`), &a); err != nil || a != float64(42) {
		t.Fatalf("number: %v", a)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `not json`, `"x"`, `[1,`, ``, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var a any
		if err := codec.Decode(data, &a); err != nil {
			t.Fatalf("an any target never fails: %v", err)
		}
		var s string
		_ = codec.Decode(data, &s)
	})
}

// FuzzEncodeAgreesWithEncodingJSON holds Encode's string fast path to encoding/json with HTML
// escaping off: the same bytes for any string.
func FuzzEncodeAgreesWithEncodingJSON(f *testing.F) {
	for _, s := range []string{"", "plain value", `q"uote`, `back\slash`, "tab\t", "<&>", "\x7f", "ç", "\u2028", "\xff", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		got, err := codec.Encode(s)
		if err != nil || !bytes.Equal(got, bytes.TrimSuffix(want.Bytes(), []byte("\n"))) {
			t.Fatalf("Encode(%q) = %q, %v; encoding/json writes %q", s, got, err, want.Bytes())
		}
	})
}

// FuzzDecodeAgreesWithEncodingJSON holds the fast decoder to encoding/json: for any bytes, into
// an any and into a struct, both fail or both give the same value.
func FuzzDecodeAgreesWithEncodingJSON(f *testing.F) {
	for _, s := range []string{`{"id":"u1","n":1.5,"tags":["a"],"ok":true}`, `not json`, `"x"`, `[1,`, `{"id":1}`,
		`{"id":"a"} x`, `1e400`, `"\ud800"`, `{"id":"\u00e7"}`, `  null `, `{"n":1,"n":2}`, `[1,2,]`, `01`} {
		f.Add([]byte(s))
	}
	type T struct {
		ID   string   `json:"id"`
		N    float64  `json:"n"`
		Tags []string `json:"tags"`
		OK   bool     `json:"ok"`
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var fast, std any
		errFast := codec.Decode(data, &fast)
		if json.Valid(data) {
			errStd := json.Unmarshal(data, &std)
			if (errFast == nil) != (errStd == nil) || errStd == nil && !reflect.DeepEqual(fast, std) {
				t.Fatalf("any: fast %v (%v), std %v (%v)", fast, errFast, std, errStd)
			}
		} else if errFast != nil || fast != string(data) {
			t.Fatalf("not JSON must decode as the raw string: %v %v", fast, errFast)
		}
		var fs, ss T
		errF := codec.Decode(data, &fs)
		errS := json.Unmarshal(data, &ss)
		if (errF == nil) != (errS == nil) || errS == nil && !reflect.DeepEqual(fs, ss) {
			t.Fatalf("struct: fast %+v (%v), std %+v (%v)", fs, errF, ss, errS)
		}
	})
}

// ReplacedInvalidUTF8 tells exactly the strings that are not valid UTF-8, whatever they hold: a
// real U+FFFD, the text `\ufffd`, a backslash before it, nested in an object.
func FuzzReplacedInvalidUTF8(f *testing.F) {
	for _, s := range []string{"node-\xff", "node-\ufffd", `node-\ufffd`, `\\ufffd`, "\\\xfe", "ok", "\xc3", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, v := range []any{s, map[string]any{"owner": s}} {
			b, err := codec.Encode(v)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := codec.ReplacedInvalidUTF8(b), !utf8.ValidString(s); got != want {
				t.Fatalf("ReplacedInvalidUTF8(%s) = %v for %q, want %v", b, got, s, want)
			}
		}
	})
}
