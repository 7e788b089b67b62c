package ops_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/igniter-go/store/ops"
)

func trace(name string) ops.Middleware {
	return func(next ops.Handler) ops.Handler {
		return func(ctx context.Context, op ops.Op) (ops.Result, error) {
			fmt.Println(name, "before", op.Kind)
			res, err := next(ctx, op)
			fmt.Println(name, "after")
			return res, err
		}
	}
}

// Chain puts its first middleware outermost: it sees the Op first and the Result last.
func ExampleChain() {
	executor := func(ctx context.Context, op ops.Op) (ops.Result, error) {
		fmt.Println("executor", op.Kind.Command())
		return ops.Result{Bool: true}, nil
	}
	h := ops.Chain(trace("first"), trace("second"), trace("third"))(executor)
	_, _ = h(context.Background(), ops.Op{Kind: ops.KVGet})
	// Output:
	// first before kv.get
	// second before kv.get
	// third before kv.get
	// executor GET
	// third after
	// second after
	// first after
}

// When applies a middleware to the Ops that match only.
func ExampleWhen() {
	executor := func(ctx context.Context, op ops.Op) (ops.Result, error) { return ops.Result{}, nil }
	writesOnly := ops.When(func(op ops.Op) bool { return !op.Kind.ReadOnly() }, trace("writes"))
	h := writesOnly(executor)
	_, _ = h(context.Background(), ops.Op{Kind: ops.KVGet})
	_, _ = h(context.Background(), ops.Op{Kind: ops.KVSet})
	// Output:
	// writes before kv.set
	// writes after
}

// Every failure is an *ops.Error: errors.Is matches its category and its cause, CodeOf reads
// the original's STORE_* code.
func ExampleError() {
	cause := errors.New("connection refused")
	err := fmt.Errorf("loading profile: %w", ops.Failure(ops.KVGet, ops.ErrUnavailable, cause))
	fmt.Println(errors.Is(err, ops.ErrUnavailable), errors.Is(err, cause))
	fmt.Println(ops.CodeOf(err), ops.Outcome(err))
	// Output:
	// true true
	// STORE_CONNECTION_FAILED unavailable
}
