package client

import (
	"context"
	"time"

	"github.com/igniter-go/store/internal/keyspace"
	"github.com/igniter-go/store/ops"
)

// Batch gets and sets many kv keys in one round trip.
type Batch struct{ s *Store }

// Item is one key of a batch get: its value, decoded, and whether it exists.
type Item[T any] struct {
	Key   string
	Value T
	Found bool
}

// BatchEntry is one key of a batch set.
type BatchEntry struct {
	Key   string
	Value any
	// TTL is the entry's expiry; 0 means none.
	TTL time.Duration
}

// Get reads keys with one MGET and returns one Item per key, in input order (duplicates kept),
// each decoded as [KV.Get] decodes into an any. No keys returns nil without a call to Redis.
// On Redis Cluster it sends one MGET per hash slot, together (one pipeline, or the nodes' shared
// batches when the store pipelines).
func (b Batch) Get(ctx context.Context, keys ...string) ([]Item[any], error) {
	return BatchGetAs[any](ctx, b, keys...)
}

// BatchGetAs is [Batch.Get] decoding every value into a T. A value that does not decode fails the
// whole call with STORE_DESERIALIZATION_FAILED.
func BatchGetAs[T any](ctx context.Context, b Batch, keys ...string) ([]Item[T], error) {
	if len(keys) == 0 {
		return nil, nil
	}
	s := b.s
	op := s.op(ops.BatchGet)
	op.N = int64(len(keys))
	full := make([]string, len(keys))
	for i, k := range keys {
		if k == "" {
			_, err := s.reject(ctx, op, errKeyRequired(ops.BatchGet))
			return nil, err
		}
		full[i] = s.prefix.Key(keyspace.NamespaceKV, k)
	}
	op.Keys = full
	res, err := s.do(ctx, op)
	if err != nil {
		return nil, err
	}
	items := make([]Item[T], len(keys))
	for i, raw := range res.Values {
		items[i].Key = keys[i]
		if raw == nil {
			continue
		}
		items[i].Found = true
		if err := decode(ops.BatchGet, raw, &items[i].Value); err != nil {
			return nil, err
		}
	}
	return items, nil
}

// Set writes every entry, all or nothing: each key, TTL and value is checked and encoded first,
// and an invalid one fails the call (STORE_KEY_REQUIRED, STORE_TTL_INVALID,
// STORE_SERIALIZATION_FAILED) with nothing written. The writes then run in one MULTI/EXEC: an MSET
// of the entries without a TTL and a SET … EX|PX for each entry with one. No entries is a no-op.
// On Redis Cluster the writes run as one such MULTI/EXEC per hash slot: all or nothing per slot,
// not across slots (internal/executor/cluster_batch.go); keys sharing a hash tag share a slot.
func (b Batch) Set(ctx context.Context, entries ...BatchEntry) error {
	if len(entries) == 0 {
		return nil
	}
	s := b.s
	op := s.op(ops.BatchSet)
	op.N = int64(len(entries))
	keys := make([]string, len(entries))
	args := &ops.BatchArgs{Values: make([][]byte, len(entries))}
	for i, e := range entries {
		ttl, err := ttlOf(ops.BatchSet, e.TTL)
		if err == nil && e.Key == "" {
			err = errKeyRequired(ops.BatchSet)
		}
		if err == nil {
			args.Values[i], err = encode(ops.BatchSet, e.Value)
		}
		if err != nil {
			_, err = s.reject(ctx, op, err)
			return err
		}
		if ttl > 0 {
			if args.TTLs == nil {
				args.TTLs = make([]time.Duration, len(entries))
			}
			args.TTLs[i] = ttl
		}
		keys[i] = s.prefix.Key(keyspace.NamespaceKV, e.Key)
	}
	op.Keys, op.Batch = keys, args
	_, err := s.do(ctx, op)
	return err
}
