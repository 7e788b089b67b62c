package history

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"
)

// KVClient is a KV register under test: the store, or a client known to break it.
type KVClient interface {
	Get(ctx context.Context, key string) (value string, found bool, err error)
	Set(ctx context.Context, key, value string) error
	Del(ctx context.Context, key string) error
}

// CounterClient is a counter under test.
type CounterClient interface {
	Add(ctx context.Context, key string, delta int64) (int64, error)
	Get(ctx context.Context, key string) (int64, error)
}

// KVStep returns a workload step for [Drive]: a get (half the time), a set of a value no other
// operation writes, or a delete, on one of keys, recorded in rec. Client c goes through
// kvs[c % len(kvs)]: several KV clients stand for several processes.
func KVStep(rec *Recorder, keys []string, kvs ...KVClient) func(context.Context, int, *rand.Rand) {
	var seq atomic.Int64
	return func(ctx context.Context, client int, rng *rand.Rand) {
		kv := kvs[client%len(kvs)]
		key := keys[rng.IntN(len(keys))]
		var err error
		switch r := rng.IntN(10); {
		case r < 5:
			p := rec.Call(client, KVInput{Op: KVGet, Key: key})
			var out KVOutput
			out.Value, out.Found, err = kv.Get(ctx, key)
			p.Return(out, err)
		case r < 9:
			value := "v" + strconv.FormatInt(seq.Add(1), 10)
			p := rec.Call(client, KVInput{Op: KVSet, Key: key, Value: value})
			err = kv.Set(ctx, key, value)
			p.Return(KVOutput{}, err)
		default:
			p := rec.Call(client, KVInput{Op: KVDel, Key: key})
			err = kv.Del(ctx, key)
			p.Return(KVOutput{}, err)
		}
		backOff(ctx, rng, err)
	}
}

// CounterStep returns a workload step for [Drive]: an add of 1 to 3 (three times in four) or a
// get, on one of keys, recorded in rec.
func CounterStep(rec *Recorder, c CounterClient, keys []string) func(context.Context, int, *rand.Rand) {
	return func(ctx context.Context, client int, rng *rand.Rand) {
		key := keys[rng.IntN(len(keys))]
		var err error
		if rng.IntN(4) == 0 {
			p := rec.Call(client, CounterInput{Key: key, Get: true})
			var v int64
			v, err = c.Get(ctx, key)
			p.Return(CounterOutput{Value: v}, err)
		} else {
			delta := 1 + rng.Int64N(3)
			p := rec.Call(client, CounterInput{Key: key, Delta: delta})
			var v int64
			v, err = c.Add(ctx, key, delta)
			p.Return(CounterOutput{Value: v}, err)
		}
		backOff(ctx, rng, err)
	}
}

// backOff paces a client after a failure, 5–20ms, so a client facing an open breaker or a dead
// server does not spin through its operations.
func backOff(ctx context.Context, rng *rand.Rand, err error) {
	if err != nil {
		pause(ctx, time.Duration(5+rng.IntN(16))*time.Millisecond)
	}
}

// Lease is a held lease, as a [LeaseClient] returns it.
type Lease interface {
	Fence() int64
	// Release gives the lease back; released is false when it was lost (expired or taken).
	Release(ctx context.Context) (released bool, err error)
}

// LeaseClient takes leases.
type LeaseClient interface {
	// Acquire tries once to take the lease on key for ttl; a nil Lease and a nil error mean
	// another owner holds it.
	Acquire(ctx context.Context, key string, ttl time.Duration) (Lease, error)
}

// LeaseStep returns a workload step for [Drive] with clients clients: a client that holds no
// lease tries to acquire the one on key; a client that holds it keeps it for a while (now and
// then past its TTL) and releases it. Operations of unknown outcome leave the client holding
// nothing.
func LeaseStep(rec *Recorder, lc LeaseClient, key string, ttl time.Duration, clients int) func(context.Context, int, *rand.Rand) {
	held := make([]Lease, clients) // each index is used by its client's goroutine only
	return func(ctx context.Context, client int, rng *rand.Rand) {
		if l := held[client]; l != nil {
			hold := time.Duration(rng.Int64N(int64(ttl / 10)))
			if rng.IntN(10) == 0 {
				hold = ttl + ttl/5 // outlive the lease: the release must find it lost
			}
			pause(ctx, hold)
			p := rec.Call(client, LeaseInput{Op: LeaseRelease, Key: key, Client: client, TTL: ttl, Fence: l.Fence()})
			released, err := l.Release(ctx)
			p.Return(LeaseOutput{Ok: released}, err)
			if Classify(err) != Failed {
				held[client] = nil
			}
			backOff(ctx, rng, err)
			return
		}
		p := rec.Call(client, LeaseInput{Op: LeaseAcquire, Key: key, Client: client, TTL: ttl})
		l, err := lc.Acquire(ctx, key, ttl)
		out := LeaseOutput{}
		if l != nil {
			out = LeaseOutput{Ok: true, Fence: l.Fence()}
		}
		p.Return(out, err)
		if err == nil {
			held[client] = l
		}
		if l == nil {
			pause(ctx, time.Duration(1+rng.IntN(5))*time.Millisecond)
		}
	}
}
