package timeout_test

import (
	"context"
	"fmt"
	"time"

	"github.com/igniter-go/store/middleware/timeout"
	"github.com/igniter-go/store/ops"
)

// An operation called without a deadline gets the default; one with a deadline keeps it.
func ExampleNew() {
	h := timeout.New(5 * time.Second)(func(ctx context.Context, _ ops.Op) (ops.Result, error) {
		_, ok := ctx.Deadline()
		fmt.Println("deadline:", ok)
		return ops.Result{}, nil
	})
	_, _ = h(context.Background(), ops.Op{Kind: ops.KVGet})
	// Output:
	// deadline: true
}
