package streams_test

import (
	"context"
	"testing"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/streams"
)

// TestStreamsOnAnExecutorAdapter: ops reach the handler as values; what needs connections of its
// own (blocking reads, consume loops) is STORE_NOT_CONNECTED, not a hang.
func TestStreamsOnAnExecutorAdapter(t *testing.T) {
	var seen []ops.Op
	st, err := client.New().WithService("api").WithAdapter(client.HandlerAdapter(func(_ context.Context, op ops.Op) (ops.Result, error) {
		seen = append(seen, op)
		switch op.Kind {
		case ops.StreamAppend:
			return ops.Result{Strings: []string{"1-0"}}, nil
		case ops.StreamRead:
			return ops.Result{Entries: []ops.Entry{{ID: "1-0", Fields: map[string]string{"data": `{"a":1}`}}}}, nil
		}
		return ops.Result{}, nil
	})).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	id, err := st.Streams.Append(ctx, "s", map[string]int{"a": 1}, streams.AppendOptions{MaxLen: 10, Approximate: true})
	if err != nil || id != "1-0" {
		t.Fatalf("append: %q %v", id, err)
	}
	op := seen[0]
	if op.Kind != ops.StreamAppend || op.Name != "s" || op.Key != "igniter:store:api:streams:s" || string(op.Value) != `{"a":1}` ||
		!op.HasN || op.N != 10 || op.Stream == nil || !op.Stream.Approx {
		t.Fatalf("append op: %+v %+v", op, op.Stream)
	}
	g := st.Streams.Group("g", "c")
	entries, err := g.Read(ctx, "s", streams.ReadOptions{Count: 5})
	if err != nil || len(entries) != 1 || string(entries[0].Message) != `{"a":1}` {
		t.Fatalf("read: %+v %v", entries, err)
	}
	if op := seen[1]; op.Stream.Group != "g" || op.Stream.Consumer != "c" || op.N != 5 || op.Stream.Block != 0 {
		t.Fatalf("read op: %+v %+v", op, op.Stream)
	}
	if _, err := g.Read(ctx, "s", streams.ReadOptions{Block: time.Second}); !ops.HasCode(err, ops.CodeNotConnected) {
		t.Fatalf("blocking read on an HandlerAdapter adapter: %v", err)
	}
	err = g.Consume(ctx, "s", func(context.Context, streams.Entry) error { return nil }, streams.ConsumeOptions{})
	if !ops.HasCode(err, ops.CodeNotConnected) {
		t.Fatalf("consume on an HandlerAdapter adapter: %v", err)
	}
}
