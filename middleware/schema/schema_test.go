package schema_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/igniter-go/store/middleware/schema"
	"github.com/igniter-go/store/ops"
)

var userSchema = schema.MustJSON(`{"type":"object","properties":{"id":{"type":"string"},"tags":{"type":"array","items":{"type":"integer"}}},"required":["id"]}`)

func TestJSONSchemaIssues(t *testing.T) {
	if is := userSchema.Validate([]byte(`{"id":"u1","tags":[1,2]}`)); is != nil {
		t.Fatalf("valid payload: %v", is)
	}
	is := userSchema.Validate([]byte(`{"id":1,"tags":[1,"x"]}`))
	want := []schema.Issue{{Path: []string{"id"}, Code: "type"}, {Path: []string{"tags", "1"}, Code: "type"}}
	if len(is) != len(want) {
		t.Fatalf("issues = %+v", is)
	}
	for i := range want {
		if !reflect.DeepEqual(is[i].Path, want[i].Path) || is[i].Code != want[i].Code || is[i].Message == "" {
			t.Errorf("issue %d = %+v, want path %v code %s", i, is[i], want[i].Path, want[i].Code)
		}
	}
	is = userSchema.Validate([]byte(`{}`))
	if len(is) != 1 || is[0].Code != "required" || len(is[0].Path) != 0 {
		t.Fatalf("missing id: %+v", is)
	}
	if is := userSchema.Validate([]byte(`not json`)); len(is) != 1 || is[0].Code != "decode" {
		t.Fatalf("not JSON: %+v", is)
	}
}

func TestJSONSchemaCompileErrors(t *testing.T) {
	for _, doc := range []string{`{`, `{"type":"nonsense"}`, `{"$ref":"https://example.com/x.json"}`} {
		_, err := schema.JSON([]byte(doc))
		if ops.CodeOf(err) != ops.CodeConfigurationInvalid || !errors.Is(err, ops.ErrInvalid) {
			t.Errorf("%s: err = %v", doc, err)
		}
	}
}

func TestFuncValidator(t *testing.T) {
	type user struct {
		ID  string `json:"id"`
		Age int    `json:"age"`
	}
	s := schema.Func(func(u user) error {
		switch {
		case u.ID == "":
			return errors.New("id is required")
		case u.Age < 0:
			return schema.Issues{{Path: []string{"age"}, Code: "too_small", Message: "age must be >= 0"}}
		}
		return nil
	})
	if is := s.Validate([]byte(`{"id":"a","age":3}`)); is != nil {
		t.Fatalf("valid: %v", is)
	}
	if is := s.Validate([]byte(`{"age":3}`)); len(is) != 1 || is[0].Code != "custom" || is[0].Message != "id is required" {
		t.Fatalf("custom: %+v", is)
	}
	if is := s.Validate([]byte(`{"id":"a","age":-1}`)); len(is) != 1 || is[0].Code != "too_small" || is[0].Path[0] != "age" {
		t.Fatalf("issues: %+v", is)
	}
	if is := s.Validate([]byte(`{"id":"a","age":"old"}`)); len(is) != 1 || is[0].Code != "decode" || len(is[0].Path) != 1 || is[0].Path[0] != "age" {
		t.Fatalf("decode: %+v", is)
	}
}

// publishOp is an events.publish Op carrying an envelope.
func publishOp(event, data string) ops.Op {
	return ops.Op{Kind: ops.EventsPublish, Name: event, Value: []byte(`{"type":"` + event + `","data":` + data + `,"timestamp":"2026-11-25T17:24:02.284Z"}`)}
}

func TestMiddlewareExactLookupAndFailure(t *testing.T) {
	registry := map[string]schema.Schema{"user:created": userSchema}
	lookup := func(e string) (schema.Schema, bool) { s, ok := registry[e]; return s, ok }
	calls := 0
	next := func(ctx context.Context, op ops.Op) (ops.Result, error) { calls++; return ops.Result{Int: 1}, nil }
	h := schema.New(lookup, schema.Options{})(next)
	ctx := context.Background()

	if _, err := h(ctx, publishOp("user:created", `{"id":"u1"}`)); err != nil || calls != 1 {
		t.Fatalf("valid: %v calls=%d", err, calls)
	}
	_, err := h(ctx, publishOp("user:created", `{"id":1}`))
	var e *ops.Error
	if !errors.As(err, &e) || e.Code != ops.CodeSchemaValidationFailed || e.Status != 400 ||
		e.Message != `Event payload validation failed for "user:created"` || e.Operation != "events.publish" || calls != 1 {
		t.Fatalf("invalid: %v calls=%d", err, calls)
	}
	if is := schema.IssuesOf(err); len(is) != 1 || is[0].Path[0] != "id" {
		t.Fatalf("issues in details: %+v", is)
	}
	// The error's text carries no issue messages (they may quote payload values).
	if got := err.Error(); got != `STORE_SCHEMA_VALIDATION_FAILED: Event payload validation failed for "user:created"` {
		t.Fatalf("error text = %q", got)
	}
	// Exact lookup: a longer event string is not validated by its prefix's schema.
	if _, err := h(ctx, publishOp("user:created:extra", `{"id":1}`)); err != nil || calls != 2 {
		t.Fatalf("prefix match: %v", err)
	}
	// Other kinds pass untouched.
	if _, err := h(ctx, ops.Op{Kind: ops.KVSet, Name: "user:created", Value: []byte(`1`)}); err != nil || calls != 3 {
		t.Fatalf("kv: %v", err)
	}
}

func TestMiddlewareLenient(t *testing.T) {
	lookup := func(string) (schema.Schema, bool) { return userSchema, true }
	var seen error
	calls := 0
	h := schema.New(lookup, schema.Options{Lenient: true, OnInvalid: func(ctx context.Context, op ops.Op, err error) { seen = err }})(
		func(ctx context.Context, op ops.Op) (ops.Result, error) { calls++; return ops.Result{}, nil })
	if _, err := h(context.Background(), publishOp("a", `{}`)); err != nil || calls != 1 || ops.CodeOf(seen) != ops.CodeSchemaValidationFailed {
		t.Fatalf("lenient: err=%v calls=%d seen=%v", err, calls, seen)
	}
}

// Zero fields of Options mean their defaults whatever else is set: Lenient false (an invalid
// payload fails and is not sent), OnInvalid nil (nobody told).
func TestOptionsZeroFieldsMeanDefaults(t *testing.T) {
	lookup := func(string) (schema.Schema, bool) { return userSchema, true }
	var told int
	onInvalid := func(context.Context, ops.Op, error) { told++ }
	for _, tc := range []struct {
		name     string
		opts     schema.Options
		fails    bool
		wantTold int
	}{
		{"zero value fails, tells nobody", schema.Options{}, true, 0},
		{"OnInvalid only still fails", schema.Options{OnInvalid: onInvalid}, true, 1},
		{"Lenient sends", schema.Options{Lenient: true}, false, 0},
		{"Lenient and OnInvalid", schema.Options{Lenient: true, OnInvalid: onInvalid}, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			told = 0
			sent := 0
			h := schema.New(lookup, tc.opts)(func(context.Context, ops.Op) (ops.Result, error) { sent++; return ops.Result{}, nil })
			_, err := h(context.Background(), publishOp("a", `{"id":1}`))
			if (err != nil) != tc.fails || (sent == 0) != tc.fails || told != tc.wantTold {
				t.Fatalf("err = %v, sent = %d, told = %d", err, sent, told)
			}
			if err != nil && !errors.Is(err, ops.ErrInvalid) {
				t.Fatalf("not ErrInvalid: %v", err)
			}
		})
	}
	// A nil lookup validates nothing.
	h := schema.New(nil, schema.Options{})(func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{}, nil })
	if _, err := h(context.Background(), publishOp("a", `{"id":1}`)); err != nil {
		t.Fatalf("nil lookup: %v", err)
	}
}
