package interop_test

import (
	"context"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
)

// TestKnownDifferences asserts the bytes that differ when Go and Node write the same value, so
// that a change on either side is noticed (README, "Where it differs from the original"). Each
// is the same value in other bytes, or a limit of JavaScript numbers; each subtest also shows
// what a user does about it.
func TestKnownDifferences(t *testing.T) {
	bin := needNode(t)
	srv := redistest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st := newStore(t, srv)
	raw := srv.Client(t)
	node := startNode(t, bin, srv.Addr, "differences")
	stored := func(t *testing.T, key string) string {
		t.Helper()
		v, err := raw.Get(ctx, "igniter:store:"+service+":kv:"+key).Result()
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		return v
	}
	nodeGet := func(t *testing.T, key string) (value json.RawMessage, negativeZero bool) {
		t.Helper()
		var r struct {
			Value        json.RawMessage `json:"value"`
			NegativeZero bool            `json:"negativeZero"`
		}
		node.mustCall(ctx, map[string]any{"cmd": "kv.get", "key": key}, &r)
		return r.Value, r.NegativeZero
	}
	must := func(t *testing.T, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var asserted []string

	// Go's encoding/json escapes U+2028 and U+2029 (JavaScript source once could not hold them
	// raw); JSON.stringify writes them raw. Same string, other bytes: in values, envelopes and
	// stream entries. Both read either form. Compare values, never stored bytes.
	t.Run("U+2028 and U+2029", func(t *testing.T) {
		const s = "line\u2028paragraph\u2029end"
		must(t, st.KV.Set(ctx, "seps:go", s, 0))
		node.mustCall(ctx, map[string]any{"cmd": "kv.set", "key": "seps:node", "value": s})
		if got, want := stored(t, "seps:go"), `"line\u2028paragraph\u2029end"`; got != want {
			t.Errorf("Go stored %q, want %q (escaped)", got, want)
		}
		if got, want := stored(t, "seps:node"), "\"line\u2028paragraph\u2029end\""; got != want {
			t.Errorf("Node stored %q, want %q (raw)", got, want)
		}
		if v, found, err := client.GetAs[string](ctx, st.KV, "seps:node"); err != nil || !found || v != s {
			t.Errorf("Go read Node's value as %q %v %v", v, found, err)
		}
		if v, _ := nodeGet(t, "seps:go"); !sameJSON(v, `"line\u2028paragraph\u2029end"`) {
			t.Errorf("Node read Go's value as %s", v)
		}
		// The same in an event envelope.
		wire := watchWire(ctx, t, raw, "igniter:store:"+service+":events:seps")
		must(t, st.Events.Publish(ctx, "seps", s))
		wire.waitFor(ctx, t, 1)
		node.mustCall(ctx, map[string]any{"cmd": "publish", "event": "seps", "samples": []string{s}})
		wire.waitFor(ctx, t, 2)
		msgs := wire.snapshot()
		goEnv, nodeEnv := redistest.MaskTimestamps(msgs[0].Payload), redistest.MaskTimestamps(msgs[1].Payload)
		if !strings.Contains(goEnv, `\u2028`) || strings.Contains(nodeEnv, `\u2028`) ||
			strings.NewReplacer(`\u2028`, "\u2028", `\u2029`, "\u2029").Replace(goEnv) != nodeEnv {
			t.Errorf("envelopes: Go %s, Node %s; want the same but for U+2028/U+2029 escaped by Go", goEnv, nodeEnv)
		}
		asserted = append(asserted, "U+2028/U+2029 escaped by Go, raw by Node")
	})

	// JavaScript objects keep their keys' insertion order (integer-like keys first, ascending);
	// a Go map encodes its keys sorted. An object Node wrote and Go re-wrote through a map (or
	// any) comes back with sorted keys: the same object, other bytes. Decoding into a struct
	// whose fields are in the Node object's order, or into json.RawMessage, keeps the bytes.
	t.Run("key order of an object re-written through Go", func(t *testing.T) {
		original := json.RawMessage(`{"b":1,"a":{"d":1,"c":2},"10":"x","2":"y"}`)
		node.mustCall(ctx, map[string]any{"cmd": "kv.set", "key": "order", "value": original})
		nodeBytes := stored(t, "order")
		if want := `{"2":"y","10":"x","b":1,"a":{"d":1,"c":2}}`; nodeBytes != want {
			t.Errorf("Node stored %s, want %s (JavaScript puts integer-like keys first)", nodeBytes, want)
		}
		var v any
		if _, err := st.KV.Get(ctx, "order", &v); err != nil {
			t.Fatal(err)
		}
		must(t, st.KV.Set(ctx, "order", v, 0))
		if got, want := stored(t, "order"), `{"10":"x","2":"y","a":{"c":2,"d":1},"b":1}`; got != want {
			t.Errorf("re-written through a Go map: %s, want %s (sorted keys)", got, want)
		}
		if back, _ := nodeGet(t, "order"); !sameJSON(back, string(original)) {
			t.Errorf("Node reads the re-written object as %s, want the value it wrote", back)
		}
		// What a user does: json.RawMessage (or a struct in the object's key order) keeps the bytes.
		node.mustCall(ctx, map[string]any{"cmd": "kv.set", "key": "order", "value": original})
		var keep json.RawMessage
		if _, err := st.KV.Get(ctx, "order", &keep); err != nil {
			t.Fatal(err)
		}
		must(t, st.KV.Set(ctx, "order", keep, 0))
		if got := stored(t, "order"); got != nodeBytes {
			t.Errorf("re-written through json.RawMessage: %s, want Node's bytes %s", got, nodeBytes)
		}
		node.mustCall(ctx, map[string]any{"cmd": "kv.set", "key": "ordered", "value": json.RawMessage(`{"b":1,"a":{"d":1,"c":2}}`)})
		var s struct {
			B int `json:"b"`
			A struct {
				D int `json:"d"`
				C int `json:"c"`
			} `json:"a"`
		}
		if _, err := st.KV.Get(ctx, "ordered", &s); err != nil {
			t.Fatal(err)
		}
		must(t, st.KV.Set(ctx, "ordered", s, 0))
		if got, want := stored(t, "ordered"), `{"b":1,"a":{"d":1,"c":2}}`; got != want {
			t.Errorf("re-written through a struct in Node's key order: %s, want %s", got, want)
		}
		asserted = append(asserted, "objects re-written through a Go map come back with sorted keys")
	})

	// Go writes a float64 negative zero as -0; JSON.stringify writes 0. Node reads Go's -0 as
	// -0 (which equals 0 in JavaScript); Go reads Node's 0 as 0.
	t.Run("negative zero", func(t *testing.T) {
		must(t, st.KV.Set(ctx, "zero:go", math.Copysign(0, -1), 0))
		node.mustCall(ctx, map[string]any{"cmd": "kv.set", "key": "zero:node", "value": math.Copysign(0, -1)})
		if got := stored(t, "zero:go"); got != "-0" {
			t.Errorf("Go stored %s, want -0", got)
		}
		if got := stored(t, "zero:node"); got != "0" {
			t.Errorf("Node stored %s, want 0", got)
		}
		if _, negative := nodeGet(t, "zero:go"); !negative {
			t.Error("Node read Go's -0 as something other than -0")
		}
		if v, _, err := client.GetAs[float64](ctx, st.KV, "zero:node"); err != nil || math.Signbit(v) || v != 0 {
			t.Errorf("Go read Node's 0 as %v (%v)", v, err)
		}
		asserted = append(asserted, "-0 written -0 by Go, 0 by Node")
	})

	// JavaScript numbers are doubles: an integer beyond 2^53 that Go writes exactly is read by
	// Node rounded, and written back rounded. Ids that large belong in strings.
	t.Run("integers beyond 2^53", func(t *testing.T) {
		const big = int64(1)<<53 + 1 // 9007199254740993
		must(t, st.KV.Set(ctx, "big", big, 0))
		if got := stored(t, "big"); got != "9007199254740993" {
			t.Errorf("Go stored %s", got)
		}
		if v, _ := nodeGet(t, "big"); string(v) != "9007199254740992" {
			t.Errorf("Node read %s, want 9007199254740992 (rounded to a double)", v)
		}
		node.mustCall(ctx, map[string]any{"cmd": "kv.rewrite", "key": "big"})
		if v, _, err := client.GetAs[int64](ctx, st.KV, "big"); err != nil || v != big-1 {
			t.Errorf("after Node re-wrote it, Go read %d (%v), want %d", v, err, big-1)
		}
		asserted = append(asserted, "integers beyond 2^53 rounded by Node")
	})

	report(t, "%d differences asserted: %s", len(asserted), strings.Join(asserted, "; "))
}

// sameJSON reports whether a and b are the same JSON value.
func sameJSON(a json.RawMessage, b string) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal([]byte(b), &y) == nil && reflect.DeepEqual(x, y)
}
