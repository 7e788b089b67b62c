package executor

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/ops"
)

// The Redis commands of the recipe primitives: set-if-absent here, the GCRA rate limiter in
// gcra.go.

// setIfAbsent sends SET key value [PX ms] NX GET: the reply is the value that was there (and
// nothing is written), or nil when this call stored value. Bool reports the store.
func (e *Executor) setIfAbsent(ctx context.Context, op ops.Op) (ops.Result, error) {
	args := make([]any, 0, 7)
	args = append(args, "SET", op.Key, op.Value)
	if op.TTL > 0 {
		args = append(args, "PX", op.TTL.Milliseconds())
	}
	args = append(args, "NX", "GET")
	old, err := doOnce(ctx, e.rdb, args...).Text()
	if err == redis.Nil {
		return ops.Result{Bool: true}, nil
	}
	if err != nil {
		return ops.Result{}, err
	}
	return ops.Result{Value: []byte(old)}, nil
}
