package client

import (
	"context"
	"time"

	"github.com/igniter-go/store/internal/keyspace"
	"github.com/igniter-go/store/ops"
)

// KV stores JSON values under keys in the kv namespace:
// igniter:store:<service>{:<scope>:<id>}*:kv:<key>.
type KV struct{ s *Store }

// Get decodes the value stored under key into dst (a non-nil pointer, as for json.Unmarshal) and
// reports whether the key exists. A stored value that is not JSON decodes as its raw string into a
// *string or *any, as the original returns it. A missing key leaves dst untouched.
func (kv KV) Get(ctx context.Context, key string, dst any) (bool, error) {
	raw, found, err := kv.GetRaw(ctx, key)
	if err != nil || !found {
		return false, err
	}
	return true, decode(ops.KVGet, raw, dst)
}

// GetRaw returns the stored bytes under key, undecoded.
func (kv KV) GetRaw(ctx context.Context, key string) ([]byte, bool, error) {
	s := kv.s
	op := s.op(ops.KVGet)
	if key == "" {
		_, err := s.reject(ctx, op, errKeyRequired(ops.KVGet))
		return nil, false, err
	}
	op.Key = s.prefix.Key(keyspace.NamespaceKV, key)
	res, err := s.do(ctx, op)
	return res.Value, res.Bool, err
}

// Set stores value as JSON under key. ttl 0 means no expiry (and clears an existing one);
// negative is STORE_TTL_INVALID with no call to Redis; whole seconds are sent as EX, anything
// finer as PX. A value that cannot be encoded is STORE_SERIALIZATION_FAILED and nothing is
// written.
func (kv KV) Set(ctx context.Context, key string, value any, ttl time.Duration) error {
	_, err := kv.set(ctx, ops.KVSet, key, value, ttl)
	return err
}

// set runs a write of value under key (KV.Set, KV.SetIfAbsent). A bad ttl, an empty key or a
// value that cannot be encoded is rejected through the chain, with no call to Redis.
func (kv KV) set(ctx context.Context, kind ops.Kind, key string, value any, ttl time.Duration) (ops.Result, error) {
	s := kv.s
	op := s.op(kind)
	var err error
	if op.TTL, err = ttlOf(kind, ttl); err == nil {
		if key == "" {
			err = errKeyRequired(kind)
		} else {
			op.Value, err = encode(kind, value)
		}
	}
	if err != nil {
		return s.reject(ctx, op, err)
	}
	op.Key = s.prefix.Key(keyspace.NamespaceKV, key)
	return s.do(ctx, op)
}

// Exists reports whether key exists (EXISTS).
func (kv KV) Exists(ctx context.Context, key string) (bool, error) {
	res, err := kv.s.keyOp(ctx, ops.KVExists, keyspace.NamespaceKV, key)
	return res.Bool, err
}

// Remove deletes key (DEL). A missing key is not an error.
func (kv KV) Remove(ctx context.Context, key string) error {
	_, err := kv.s.keyOp(ctx, ops.KVRemove, keyspace.NamespaceKV, key)
	return err
}

// Expire sets key to expire after ttl (EXPIRE for whole seconds, PEXPIRE otherwise). ttl 0
// removes the expiry (PERSIST); negative is STORE_TTL_INVALID. A missing key is not an error.
func (kv KV) Expire(ctx context.Context, key string, ttl time.Duration) error {
	_, err := kv.s.ttlOp(ctx, ops.KVExpire, keyspace.NamespaceKV, key, ttl)
	return err
}

// Touch is Expire under its own telemetry name, as in the original (it is not Redis TOUCH).
func (kv KV) Touch(ctx context.Context, key string, ttl time.Duration) error {
	_, err := kv.s.ttlOp(ctx, ops.KVTouch, keyspace.NamespaceKV, key, ttl)
	return err
}

// keyOp runs a single-key op with no payload.
func (s *Store) keyOp(ctx context.Context, kind ops.Kind, ns, key string) (ops.Result, error) {
	op := s.op(kind)
	if key == "" {
		return s.reject(ctx, op, errKeyRequired(kind))
	}
	op.Key = s.prefix.Key(ns, key)
	return s.do(ctx, op)
}

// ttlOp runs a single-key op with a TTL.
func (s *Store) ttlOp(ctx context.Context, kind ops.Kind, ns, key string, ttl time.Duration) (ops.Result, error) {
	op := s.op(kind)
	var err error
	if op.TTL, err = ttlOf(kind, ttl); err != nil {
		return s.reject(ctx, op, err)
	}
	if key == "" {
		return s.reject(ctx, op, errKeyRequired(kind))
	}
	op.Key = s.prefix.Key(ns, key)
	return s.do(ctx, op)
}

// SetIfAbsent stores value as JSON under key only when key does not exist, atomically (one
// SET … NX GET, Redis 7.0 or later), and reports whether it stored it. When key already holds a
// value, nothing is written and that value is decoded into existing (a non-nil pointer, as for
// [KV.Get]; nil skips decoding), so every caller learns the one value that won: A/B assignment,
// idempotency keys, webhook dedup. ttl is as for [KV.Set] and applies only to a value this call
// stores. A key holding a non-string type is STORE_SET_FAILED wrapping Redis's WRONGTYPE.
//
// It is not retried by default: after a lost reply a retry would find this call's own value and
// report stored=false (the value in existing would still be the right one).
func (kv KV) SetIfAbsent(ctx context.Context, key string, value any, ttl time.Duration, existing any) (stored bool, err error) {
	res, err := kv.set(ctx, ops.KVSetIfAbsent, key, value, ttl)
	if err != nil || res.Bool {
		return res.Bool, err
	}
	if existing != nil {
		err = decode(ops.KVSetIfAbsent, res.Value, existing)
	}
	return false, err
}

// SetIfAbsentAs is [KV.SetIfAbsent] for a typed value: it returns the value key holds after the
// call (value when this call stored it, the earlier value otherwise) and whether this call
// stored it.
func SetIfAbsentAs[T any](ctx context.Context, kv KV, key string, value T, ttl time.Duration) (winner T, stored bool, err error) {
	stored, err = kv.SetIfAbsent(ctx, key, value, ttl, &winner)
	if stored {
		winner = value
	}
	return winner, stored, err
}
