package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/middleware/breaker"
	"github.com/igniter-go/store/middleware/retry"
	"github.com/igniter-go/store/ops"
)

// Resilience is on by default; here it is tuned. A Redis that refuses every call: reads are
// retried, writes are not, and after three failed attempts the breaker opens and calls fail at
// once without being sent.
func ExampleBuilder_WithBreaker() {
	sent := 0
	down := client.HandlerAdapter(func(_ context.Context, op ops.Op) (ops.Result, error) {
		sent++
		return ops.Result{}, ops.Failure(op.Kind, ops.ErrUnavailable, io.EOF)
	})
	st, err := client.New().WithService("api").WithAdapter(down).
		WithRetry(retry.Policy{MaxAttempts: 2, Backoff: retry.NoBackoff, NoBudget: true}). // for the example
		WithBreaker(breaker.Settings{Failures: 3, Timeout: time.Minute}).
		WithObserver(ops.ObserverFunc(func(_ context.Context, s ops.Signal) {
			switch s.Kind {
			case ops.SignalRetry:
				fmt.Println("retry", s.Op, "after attempt", s.N)
			case ops.SignalBreakerState:
				fmt.Println("breaker", s.From, "->", s.To)
			}
		})).
		Build()
	if err != nil {
		panic(err)
	}
	defer st.Close()
	ctx := context.Background()

	_, err = st.Counter.Increment(ctx, "visits") // a write: one attempt
	fmt.Println(ops.CodeOf(err))
	_, err = st.KV.Exists(ctx, "user:1") // a read: two attempts; the second opens the breaker
	fmt.Println(ops.CodeOf(err))
	_, err = st.KV.Exists(ctx, "user:1")
	fmt.Println(ops.CodeOf(err), errors.Is(err, breaker.ErrOpen), "sent:", sent)
	// Output:
	// STORE_CONNECTION_FAILED
	// retry kv.exists after attempt 1
	// breaker closed -> open
	// STORE_CONNECTION_FAILED
	// STORE_CIRCUIT_OPEN true sent: 3
}
