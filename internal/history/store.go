package history

import (
	"context"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/ops"
)

// StoreKV is the store's KV as a [KVClient]: string values, no TTL.
type StoreKV struct{ Store *client.Store }

// Get reads key (GET).
func (s StoreKV) Get(ctx context.Context, key string) (string, bool, error) {
	var v string
	found, err := s.Store.KV.Get(ctx, key, &v)
	return v, found, err
}

// Set writes key without expiry (SET).
func (s StoreKV) Set(ctx context.Context, key, value string) error {
	return s.Store.KV.Set(ctx, key, value, 0)
}

// Del deletes key (DEL).
func (s StoreKV) Del(ctx context.Context, key string) error { return s.Store.KV.Remove(ctx, key) }

// StoreCounter is the store's Counter as a [CounterClient]; a get is an add of 0 (INCRBY k 0),
// the store having no counter read of its own.
type StoreCounter struct{ Store *client.Store }

// Add adds delta (INCR or INCRBY) and returns the new value.
func (s StoreCounter) Add(ctx context.Context, key string, delta int64) (int64, error) {
	return s.Store.Counter.IncrementBy(ctx, key, delta)
}

// Get returns the counter's value (INCRBY key 0).
func (s StoreCounter) Get(ctx context.Context, key string) (int64, error) {
	return s.Store.Counter.IncrementBy(ctx, key, 0)
}

// StoreLeases is the store's Claim.Acquire as a [LeaseClient].
type StoreLeases struct{ Store *client.Store }

// Acquire tries once (AcquireOptions{}); STORE_LEASE_NOT_ACQUIRED is a nil Lease.
func (s StoreLeases) Acquire(ctx context.Context, key string, ttl time.Duration) (Lease, error) {
	l, err := s.Store.Claim.Acquire(ctx, key, ttl, client.AcquireOptions{})
	if ops.HasCode(err, ops.CodeLeaseNotAcquired) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return storeLease{l}, nil
}

type storeLease struct{ l *client.Lease }

func (s storeLease) Fence() int64 { return s.l.Fence() }

// Release maps STORE_LEASE_LOST to released=false.
func (s storeLease) Release(ctx context.Context) (bool, error) {
	err := s.l.Release(ctx)
	if ops.HasCode(err, ops.CodeLeaseLost) {
		return false, nil
	}
	return err == nil, err
}
