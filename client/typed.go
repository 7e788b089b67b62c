package client

import "context"

// Get reads key from kv and decodes it into a T. found is false, with T's zero value, when the
// key does not exist.
func Get[T any](ctx context.Context, kv KV, key string) (value T, found bool, err error) {
	found, err = kv.Get(ctx, key, &value)
	return value, found, err
}
