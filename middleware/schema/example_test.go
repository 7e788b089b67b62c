package schema_test

import (
	"context"
	"fmt"

	"github.com/igniter-go/store/middleware/schema"
	"github.com/igniter-go/store/ops"
)

func ExampleNew() {
	s := schema.MustJSON(`{"type":"object","properties":{"id":{"type":"string"}},"required":["id"]}`)
	lookup := func(event string) (schema.Schema, bool) { return s, event == "user:created" }
	send := func(ctx context.Context, op ops.Op) (ops.Result, error) {
		fmt.Println("sent", op.Name)
		return ops.Result{}, nil
	}
	h := schema.New(lookup, schema.Options{})(send)

	ctx := context.Background()
	_, err := h(ctx, ops.Op{Kind: ops.EventsPublish, Name: "user:created", Value: []byte(`{"type":"user:created","data":{"id":"u1"},"timestamp":"2026-11-25T17:24:02.284Z"}`)})
	fmt.Println(err)
	_, err = h(ctx, ops.Op{Kind: ops.EventsPublish, Name: "user:created", Value: []byte(`{"type":"user:created","data":{"id":7},"timestamp":"2026-11-25T17:24:02.284Z"}`)})
	fmt.Println(ops.CodeOf(err), schema.IssuesOf(err)[0].Path, schema.IssuesOf(err)[0].Code)
	// Output:
	// sent user:created
	// <nil>
	// STORE_SCHEMA_VALIDATION_FAILED [id] type
}
