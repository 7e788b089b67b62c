package streams_test

import (
	"context"
	"fmt"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/storetest"
	"github.com/igniter-go/store/streams"
)

// shop is the examples' store: service "shop", on the miniredis storetest.Open starts.
func shop(b *client.Builder) *client.Builder { return b.WithService("shop") }

type orderPlaced struct {
	Order string  `json:"order"`
	Total float64 `json:"total"`
}

// Append entries, read them as a consumer group, and ack them (on an in-process miniredis).
func ExampleStreams() {
	st, err := storetest.Open(storetest.WithBuilder(shop))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	ctx := context.Background()

	_, _ = st.Streams.Append(ctx, "orders", orderPlaced{"o-1", 9.5}, streams.AppendOptions{MaxLen: 1000, Approximate: true})
	_, _ = st.Streams.Append(ctx, "orders", orderPlaced{"o-2", 20}, streams.AppendOptions{MaxLen: 1000, Approximate: true})

	billing := st.Streams.Group("billing", "worker-1")
	if err := billing.Ensure(ctx, "orders", streams.EnsureOptions{}); err != nil {
		fmt.Println(err)
		return
	}
	msgs, err := streams.ReadAs[orderPlaced](ctx, billing, "orders", streams.ReadOptions{Count: 10})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range msgs {
		fmt.Println(m.Message.Order, m.Message.Total)
		_, _ = billing.Ack(ctx, "orders", m.ID)
	}
	lag, _ := billing.Lag(ctx, "orders")
	fmt.Println("pending:", lag.Pending)
	// Output:
	// o-1 9.5
	// o-2 20
	// pending: 0
}

// A consume loop: handlers run on their own goroutines, each entry is acked after its handler
// succeeds, and cancelling ctx stops the loop once the handlers in flight have returned.
func ExampleGroup_Consume() {
	st, err := storetest.Open(storetest.WithBuilder(shop))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, o := range []string{"o-1", "o-2", "o-3"} {
		_, _ = st.Streams.Append(ctx, "orders", orderPlaced{Order: o}, streams.AppendOptions{})
	}

	seen := 0
	err = streams.ConsumeAs(ctx, st.Streams.Group("billing", "worker-1"), "orders",
		func(ctx context.Context, m streams.Message[orderPlaced]) error {
			fmt.Println("billing", m.Message.Order)
			if seen++; seen == 3 {
				cancel()
			}
			return nil
		}, streams.ConsumeOptions{Concurrency: 1, Block: 50 * time.Millisecond, LagInterval: -1})
	fmt.Println("stopped:", err)
	// Output:
	// billing o-1
	// billing o-2
	// billing o-3
	// stopped: <nil>
}
