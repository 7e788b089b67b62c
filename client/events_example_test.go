package client_test

import (
	"context"
	"fmt"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/events"
	"github.com/igniter-go/store/middleware/schema"
	"github.com/igniter-go/store/ops"
)

type InvoicePaid struct {
	ID     string `json:"id"`
	Amount int    `json:"amount"`
}

var (
	billing     = events.NewNamespace("billing")
	invoicePaid = events.Define[InvoicePaid](billing, "invoice_paid",
		schema.MustJSON(`{"type":"object","properties":{"id":{"type":"string"},"amount":{"type":"integer","minimum":1}},"required":["id","amount"]}`))
)

func Example_events() {
	mr, _ := miniredis.Run()
	defer mr.Close()
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1, ContextTimeoutEnabled: true})
	st, err := client.New().WithService("api").WithAdapter(client.Redis(rdb, client.OwnClient())).
		AddEvents(billing).Build()
	if err != nil {
		panic(err)
	}
	defer st.Close()
	ctx := context.Background()

	got := make(chan events.Envelope[InvoicePaid])
	sub, err := invoicePaid.Subscribe(ctx, st, func(ctx context.Context, ev events.Envelope[InvoicePaid]) error {
		got <- ev
		return nil
	}, events.OnError(func(ctx context.Context, err error) { fmt.Println("subscription:", err) }))
	if err != nil {
		panic(err)
	}
	defer sub.Close()

	if err := invoicePaid.Publish(ctx, st, InvoicePaid{ID: "in_1", Amount: 42}); err != nil {
		panic(err)
	}
	ev := <-got
	fmt.Println(ev.Type, ev.Data.ID, ev.Data.Amount)

	err = invoicePaid.Publish(ctx, st, InvoicePaid{ID: "in_2"}) // amount 0 < minimum
	fmt.Println(ops.CodeOf(err), schema.IssuesOf(err)[0].Path, schema.IssuesOf(err)[0].Code)
	// Output:
	// billing:invoice_paid in_1 42
	// STORE_SCHEMA_VALIDATION_FAILED [amount] minimum
}
