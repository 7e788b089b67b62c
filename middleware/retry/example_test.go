package retry_test

import (
	"context"
	"fmt"
	"io"

	"github.com/igniter-go/store/middleware/retry"
	"github.com/igniter-go/store/ops"
)

// A read that fails twice with a lost connection succeeds on the third attempt; an INCR that
// fails is never sent again.
func ExampleNew() {
	attempts := 0
	flaky := func(_ context.Context, op ops.Op) (ops.Result, error) {
		attempts++
		if attempts <= 2 {
			return ops.Result{}, ops.Failure(op.Kind, ops.ErrUnavailable, io.EOF)
		}
		return ops.Result{Bool: true}, nil
	}
	p := retry.Policy{
		MaxAttempts: 3, // counts the first try
		OnRetry: func(_ context.Context, a retry.Attempt) {
			fmt.Println("retrying after attempt", a.Number)
		},
	}
	h := retry.New(p)(flaky)

	res, err := h(context.Background(), ops.Op{Kind: ops.KVGet, Idempotent: true})
	fmt.Println(res.Bool, err, attempts)

	attempts = 0
	_, err = h(context.Background(), ops.Op{Kind: ops.CounterIncrement})
	fmt.Println(err != nil, attempts)
	// Output:
	// retrying after attempt 1
	// retrying after attempt 2
	// true <nil> 3
	// true 1
}
