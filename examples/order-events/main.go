// Command order-events publishes and receives typed order events between two services.
//
// The original's recipe defines order.placed with a zod schema and publishes it. The schema
// exists only in TypeScript, a handler that throws crashes the subscriber's process, and a
// subscriber gets untyped data. Here the event is defined once with a JSON Schema (zod 4 emits
// the same document, so a Node service can share the contract), the publish is validated before
// anything is sent, the subscriber gets a typed envelope, and a failing handler is reported
// while delivery goes on.
//
//	go run ./examples/order-events              # embedded miniredis
//	go run ./examples/order-events -redis ADDR  # a real Redis
package main

import (
	"context"
	"fmt"
	"io"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/events"
	"github.com/igniter-go/store/examples/internal/harness"
	"github.com/igniter-go/store/middleware/schema"
	"github.com/igniter-go/store/ops"
)

func main() { harness.Main(run) }

// OrderPlaced is the payload of order:placed.
type OrderPlaced struct {
	OrderID string  `json:"orderId"`
	Total   float64 `json:"total"`
}

var (
	order  = events.NewNamespace("order")
	placed = events.Define[OrderPlaced](order, "placed", schema.MustJSON(`{
		"type": "object",
		"required": ["orderId", "total"],
		"properties": {"orderId": {"type": "string", "minLength": 1}, "total": {"type": "number", "minimum": 0}}
	}`))
)

func run(ctx context.Context, env *harness.Env, out io.Writer) error {
	// Two services on one Redis: checkout publishes, fulfilment subscribes.
	checkout, err := env.Store(client.New().WithService("orders").AddScope("store_id").AddEvents(order))
	if err != nil {
		return err
	}
	fulfilment, err := env.Store(client.New().WithService("orders").AddScope("store_id").AddEvents(order))
	if err != nil {
		return err
	}
	shop := checkout.MustScope("store_id", "s_1")

	got := make(chan events.Envelope[OrderPlaced], 4)
	failures := make(chan error, 4)
	sub, err := placed.Subscribe(ctx, fulfilment.MustScope("store_id", "s_1"), func(ctx context.Context, ev events.Envelope[OrderPlaced]) error {
		got <- ev
		if ev.Data.OrderID == "o_2" {
			return fmt.Errorf("warehouse offline for %s", ev.Data.OrderID)
		}
		return nil
	}, events.OnError(func(_ context.Context, err error) { failures <- err }))
	if err != nil {
		return err
	}
	defer sub.Close()

	// A valid order is delivered, typed, with the publishing scope.
	if err := placed.Publish(ctx, shop, OrderPlaced{OrderID: "o_1", Total: 42}); err != nil {
		return err
	}
	ev, err := harness.Next(ctx, got)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "received %s: order %s, total %.2f, store %s\n", ev.Type, ev.Data.OrderID, ev.Data.Total, ev.Scope.Identifier)

	// An invalid one is refused before it is sent.
	err = placed.Publish(ctx, shop, OrderPlaced{OrderID: "o_bad", Total: -5})
	fmt.Fprintln(out, "negative total refused:", ops.CodeOf(err))

	// A handler that fails is reported; the next event is still delivered.
	if err := placed.Publish(ctx, shop, OrderPlaced{OrderID: "o_2", Total: 10}); err != nil {
		return err
	}
	if _, err := harness.Next(ctx, got); err != nil {
		return err
	}
	failure, err := harness.Next(ctx, failures)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "handler failure reported:", ops.CodeOf(failure))
	if err := placed.Publish(ctx, shop, OrderPlaced{OrderID: "o_3", Total: 7.5}); err != nil {
		return err
	}
	ev, err = harness.Next(ctx, got)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "delivery goes on: received", ev.Data.OrderID)
	return nil
}
