package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/igniter-go/store/middleware/breaker"
	"github.com/igniter-go/store/ops"
)

// Two failures open the breaker; the next call is rejected without reaching Redis.
func ExampleBreaker_Middleware() {
	b := breaker.New(breaker.Settings{
		Failures: 2,
		Timeout:  time.Minute,
		OnStateChange: func(name string, from, to breaker.State) {
			fmt.Println(name, from, "->", to)
		},
	})
	sent := 0
	down := func(_ context.Context, op ops.Op) (ops.Result, error) {
		sent++
		return ops.Result{}, ops.Failure(op.Kind, ops.ErrUnavailable, io.EOF)
	}
	h := b.Middleware()(down)
	get := ops.Op{Kind: ops.KVGet}
	for range 3 {
		_, err := h(context.Background(), get)
		fmt.Println(ops.CodeOf(err), errors.Is(err, breaker.ErrOpen))
	}
	fmt.Println("sent:", sent, "state:", b.State())
	// Output:
	// STORE_CONNECTION_FAILED false
	// redis closed -> open
	// STORE_CONNECTION_FAILED false
	// STORE_CIRCUIT_OPEN true
	// sent: 2 state: open
}
