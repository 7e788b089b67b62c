package history_test

import (
	"context"
	"errors"
	"sync"

	"github.com/redis/go-redis/v9"
)

// redisCounter is a plain go-redis client as a counter.
type redisCounter struct{ rdb *redis.Client }

func (c redisCounter) Add(ctx context.Context, key string, delta int64) (int64, error) {
	return c.rdb.IncrBy(ctx, key, delta).Result()
}

func (c redisCounter) Get(ctx context.Context, key string) (int64, error) {
	n, err := c.rdb.Get(ctx, key).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	return n, err
}

// redisKV is a plain go-redis client as a KV register.
type redisKV struct{ rdb *redis.Client }

func (c redisKV) Get(ctx context.Context, key string) (string, bool, error) {
	v, err := c.rdb.Get(ctx, key).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	return v, err == nil, err
}

func (c redisKV) Set(ctx context.Context, key, value string) error {
	return c.rdb.Set(ctx, key, value, 0).Err()
}

func (c redisKV) Del(ctx context.Context, key string) error { return c.rdb.Del(ctx, key).Err() }

// staleCache is the planted defect: a cache in front of a KV register that serves reads from a
// local map and never learns of other processes' writes (no invalidation, no TTL). Its own
// writes go through to Redis and into the map.
type staleCache struct {
	next redisKV
	mu   sync.Mutex
	m    map[string]*string // nil value: cached as absent
}

func newStaleCache(rdb *redis.Client) *staleCache {
	return &staleCache{next: redisKV{rdb}, m: map[string]*string{}}
}

func (c *staleCache) Get(ctx context.Context, key string) (string, bool, error) {
	c.mu.Lock()
	v, hit := c.m[key]
	c.mu.Unlock()
	if hit {
		if v == nil {
			return "", false, nil
		}
		return *v, true, nil
	}
	s, found, err := c.next.Get(ctx, key)
	if err == nil {
		c.put(key, s, found)
	}
	return s, found, err
}

func (c *staleCache) Set(ctx context.Context, key, value string) error {
	err := c.next.Set(ctx, key, value)
	if err == nil {
		c.put(key, value, true)
	}
	return err
}

func (c *staleCache) Del(ctx context.Context, key string) error {
	err := c.next.Del(ctx, key)
	if err == nil {
		c.put(key, "", false)
	}
	return err
}

func (c *staleCache) put(key, value string, found bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !found {
		c.m[key] = nil
		return
	}
	c.m[key] = &value
}
