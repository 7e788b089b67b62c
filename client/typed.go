package client

import "context"

// GetAs reads key from kv and decodes it into a T. found is false, with T's zero value, when the
// key does not exist.
func GetAs[T any](ctx context.Context, kv KV, key string) (value T, found bool, err error) {
	found, err = kv.Get(ctx, key, &value)
	return value, found, err
}
