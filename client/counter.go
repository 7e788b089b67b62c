package client

import (
	"context"
	"time"

	"github.com/igniter-go/store/internal/keyspace"
	"github.com/igniter-go/store/ops"
)

// Counter keeps integer counters in the counter namespace. Counters are plain Redis integers, so
// Go and Node services count together.
type Counter struct{ s *Store }

// Increment adds 1 (INCR) and returns the new value. A stored value that is not an integer is
// STORE_INCREMENT_FAILED wrapping Redis's error.
func (c Counter) Increment(ctx context.Context, key string) (int64, error) {
	return c.add(ctx, ops.CounterIncrement, key, 1)
}

// Decrement subtracts 1 (INCRBY key -1, as the original) and returns the new value.
func (c Counter) Decrement(ctx context.Context, key string) (int64, error) {
	return c.add(ctx, ops.CounterDecrement, key, -1)
}

// IncrementBy adds delta (INCR when delta is 1, INCRBY otherwise) and returns the new value.
func (c Counter) IncrementBy(ctx context.Context, key string, delta int64) (int64, error) {
	return c.add(ctx, ops.CounterIncrement, key, delta)
}

func (c Counter) add(ctx context.Context, kind ops.Kind, key string, delta int64) (int64, error) {
	s := c.s
	op := s.op(kind)
	op.N = delta
	if key == "" {
		_, err := s.reject(ctx, op, errKeyRequired(kind))
		return 0, err
	}
	op.Key = s.prefix.Key(keyspace.NamespaceCounter, key)
	res, err := s.do(ctx, op)
	return res.Int, err
}

// Expire sets the counter to expire after ttl; 0 removes the expiry; negative is
// STORE_TTL_INVALID.
func (c Counter) Expire(ctx context.Context, key string, ttl time.Duration) error {
	_, err := c.s.ttlOp(ctx, ops.CounterExpire, keyspace.NamespaceCounter, key, ttl)
	return err
}
