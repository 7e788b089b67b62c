package streams_test

import (
	"context"
	"fmt"

	"github.com/igniter-go/store/storetest"
	"github.com/igniter-go/store/streams"
)

// Move dead letters back to their stream once the handler is fixed. Each keeps its message,
// and its origin id and dead-letter history travel in fields the consume loop ignores.
func ExampleStreams_Redrive() {
	st, err := storetest.Open(storetest.WithBuilder(shop))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	ctx := context.Background()

	// What a consume loop writes when an entry exhausts its deliveries.
	_, _ = st.Streams.Append(ctx, "orders:dead", streams.DeadLetter{Stream: "orders", Group: "billing", Consumer: "w1",
		ID: "1700000000000-0", Error: "tax service down", Deliveries: 5, Message: []byte(`{"order":"o-1"}`)}, streams.AppendOptions{})

	res, err := st.Streams.Redrive(ctx, "orders", streams.RedriveOptions{})
	fmt.Printf("moved %d, err %v\n", res.Moved, err)

	entries, _ := st.Streams.Range(ctx, "orders", streams.RangeOptions{})
	e := entries[0]
	h := streams.RedriveHistory(e)
	fmt.Println(string(e.Message), e.Fields[streams.RedriveOriginField], h[0].Error)
	// Output:
	// moved 1, err <nil>
	// {"order":"o-1"} 1700000000000-0 tax service down
}
