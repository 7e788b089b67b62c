package interop_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
)

// The payloads both languages write, generated the same way by node/driver.mjs (entryPayload,
// invoicePayload): a change here needs the same change there. Struct fields are in the order of
// the JavaScript object literals, so both languages write the same bytes for the same value.
// Floating-point expressions round every step (float64(…)), as JavaScript does: the Go compiler
// may otherwise fuse a multiply and an add.

// entry is the message of a stream entry. Its text holds U+2028 and U+2029, which Go writes
// escaped and Node raw: entries are compared by value, field by field.
type entry struct {
	Src    string   `json:"src"`
	Seq    int      `json:"seq"`
	Text   string   `json:"text"`
	Amount float64  `json:"amount"`
	Big    int64    `json:"big"`
	Tags   []string `json:"tags"`
	Nested struct {
		Seq   int     `json:"seq"`
		Even  bool    `json:"even"`
		Ratio float64 `json:"ratio"`
	} `json:"nested"`
	OK   bool    `json:"ok"`
	None *string `json:"none"`
}

func entryPayload(src string, seq int) entry {
	e := entry{
		Src:    src,
		Seq:    seq,
		Text:   fmt.Sprintf("entry %d from %s: café ✓ 🚀 \"q\" \\ <b>&</b> \u2028\u2029 end", seq, src),
		Amount: float64(float64(seq)*0.25) + 0.1,
		Big:    9007199254740991 - int64(seq),
		Tags:   []string{src, "t" + strconv.Itoa(seq%7)},
		OK:     seq%3 != 0,
	}
	e.Nested.Seq, e.Nested.Even, e.Nested.Ratio = seq, seq%2 == 0, float64(seq)/3
	return e
}

// invoice is the payload of the billing events, the contract both languages define: zod in
// driver.mjs, invoiceSchema here.
type invoice struct {
	InvoiceID string        `json:"invoiceId"`
	From      string        `json:"from"`
	Seq       int           `json:"seq"`
	Total     float64       `json:"total"`
	Currency  string        `json:"currency"`
	Lines     []invoiceLine `json:"lines"`
	Customer  customer      `json:"customer"`
	Paid      bool          `json:"paid"`
	Note      *string       `json:"note"`
}

type invoiceLine struct {
	SKU   string  `json:"sku"`
	Qty   int     `json:"qty"`
	Price float64 `json:"price"`
}

type customer struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

const invoiceSchema = `{
  "type": "object",
  "required": ["invoiceId", "from", "seq", "total", "currency", "lines", "customer", "paid", "note"],
  "properties": {
    "invoiceId": {"type": "string"},
    "from": {"enum": ["node", "go"]},
    "seq": {"type": "integer", "minimum": 0},
    "total": {"type": "number"},
    "currency": {"enum": ["EUR", "USD", "BRL"]},
    "lines": {"type": "array", "minItems": 1, "items": {
      "type": "object", "required": ["sku", "qty", "price"],
      "properties": {"sku": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}, "price": {"type": "number"}}
    }},
    "customer": {"type": "object", "required": ["id", "name", "email"],
      "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "email": {"type": "string", "pattern": "^[^@]+@[^@]+$"}}},
    "paid": {"type": "boolean"},
    "note": {"type": ["string", "null"]}
  }
}`

func invoicePayload(from string, seq int) invoice {
	inv := invoice{
		InvoiceID: fmt.Sprintf("inv_%s_%d", from, seq),
		From:      from,
		Seq:       seq,
		Total:     float64(float64(seq)/4) + 0.99,
		Currency:  []string{"EUR", "USD", "BRL"}[seq%3],
		Lines: []invoiceLine{
			{SKU: fmt.Sprintf("sku-%d", seq%97), Qty: 1 + seq%5, Price: 9.99},
			{SKU: "fee", Qty: 1, Price: 0.5},
		},
		Customer: customer{ID: fmt.Sprintf("c_%d", seq%1000), Name: `Zoë Ñúñez — 日本 🚀 "VIP" <b>`, Email: fmt.Sprintf("c%d@example.com", seq%1000)},
		Paid:     seq%2 == 0,
	}
	if seq%4 != 0 {
		note := fmt.Sprintf("note %d \\ tab\t end", seq)
		inv.Note = &note
	}
	return inv
}

// fieldDiff compares got (JSON) with want (a value that encodes to JSON) field by field, by
// value, and returns the paths that differ ("" when equal).
func fieldDiff(got []byte, want any) string {
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		return "does not decode: " + err.Error()
	}
	wb, err := json.Marshal(want)
	if err != nil {
		return err.Error()
	}
	if err := json.Unmarshal(wb, &w); err != nil {
		return err.Error()
	}
	var diffs []string
	diffValues("$", g, w, &diffs)
	if len(diffs) > 3 {
		diffs = append(diffs[:3], fmt.Sprintf("… %d more", len(diffs)-3))
	}
	return strings.Join(diffs, "; ")
}

func diffValues(path string, g, w any, out *[]string) {
	gm, gok := g.(map[string]any)
	wm, wok := w.(map[string]any)
	if gok && wok {
		keys := make([]string, 0, len(gm)+len(wm))
		for k := range gm {
			keys = append(keys, k)
		}
		for k := range wm {
			if _, ok := gm[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			gv, gin := gm[k]
			wv, win := wm[k]
			switch {
			case !gin:
				*out = append(*out, path+"."+k+" missing")
			case !win:
				*out = append(*out, path+"."+k+" unexpected")
			default:
				diffValues(path+"."+k, gv, wv, out)
			}
		}
		return
	}
	ga, gok := g.([]any)
	wa, wok := w.([]any)
	if gok && wok && len(ga) == len(wa) {
		for i := range ga {
			diffValues(fmt.Sprintf("%s[%d]", path, i), ga[i], wa[i], out)
		}
		return
	}
	if !reflect.DeepEqual(g, w) {
		*out = append(*out, fmt.Sprintf("%s = %v, want %v", path, g, w))
	}
}

// seqOf reads src and seq from a JSON message.
func seqOf(msg []byte) (src string, seq int, err error) {
	var m struct {
		Src  string `json:"src"`
		From string `json:"from"`
		Seq  *int   `json:"seq"`
	}
	if err := json.Unmarshal(msg, &m); err != nil {
		return "", 0, err
	}
	if m.Seq == nil {
		return "", 0, fmt.Errorf("no seq in %s", msg)
	}
	if m.Src == "" {
		m.Src = m.From
	}
	return m.Src, *m.Seq, nil
}

// service is the service name of every store in these tests, Go's and Node's.
const service = "interop"

// newStore builds a Go store for the service on srv with a client of its own, closed at cleanup,
// with opts applied to the builder first.
func newStore(t *testing.T, srv *redistest.Server, opts ...func(*client.Builder) *client.Builder) *client.Store {
	t.Helper()
	return newStoreAt(t, srv.Addr, opts...)
}

// newStoreAt is newStore on the Redis at addr (a fault proxy's, say).
func newStoreAt(t *testing.T, addr string, opts ...func(*client.Builder) *client.Builder) *client.Store {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, ContextTimeoutEnabled: true})
	b := client.New().WithAdapter(client.Redis(rdb, client.OwnClient())).WithService(service)
	for _, o := range opts {
		b = o(b)
	}
	st, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// scoped returns st scoped to organization=acme, the tenant of the streams and events tests.
func scoped(t *testing.T, st *client.Store) *client.Store {
	t.Helper()
	s, err := st.Scope("organization", "acme")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// nodeScope is the same scope for a Node command.
var nodeScope = []string{"organization", "acme"}

// sortedInts returns the values sorted.
func sortedInts(v []int64) []int64 {
	v = slices.Clone(v)
	slices.Sort(v)
	return v
}
