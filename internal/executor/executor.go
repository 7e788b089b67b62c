package executor

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/ops"
)

// Executor runs Ops on a go-redis client. It is the end of every chain. It sends exactly the
// commands of the original (spec §6–§8) and maps every go-redis error to a coded error
// (errors.go). It never retries.
type Executor struct {
	rdb redis.UniversalClient
	// pipe, when set, carries the short commands of concurrent callers in shared batches
	// (pipeline.go); everything else runs on rdb.
	pipe *pipeline
	// lone and piped are what scripts run on outside and inside the pipeline (pipeline.go),
	// built once so a script call allocates no adapter.
	lone, piped redis.Scripter
}

// New returns an Executor that sends on rdb.
func New(rdb redis.UniversalClient) *Executor {
	return &Executor{rdb: rdb, lone: newLoneScripter(rdb)}
}

// Handle runs op: it is an ops.Handler.
func (e *Executor) Handle(ctx context.Context, op ops.Op) (ops.Result, error) {
	res, err := e.run(ctx, op) // noretry.go: go-redis never re-sends a store command once written
	if err != nil {
		reloadOnFailure(e.rdb, err)
		if lost := lostReplyOf(op, err); lost != nil {
			return ops.Result{}, lost
		}
		return ops.Result{}, MapError(op.Kind, err)
	}
	return res, nil
}

// run dispatches every kind the store has, in one table: a kind missing here is a bug that a
// test of every ops.Kind catches. Every command goes through sendOnce (noretry.go): on a cluster
// go-redis never sends it a second time once it may have been written.
func (e *Executor) run(ctx context.Context, op ops.Op) (ops.Result, error) {
	if e.pipe != nil {
		if res, ok, err := e.pipe.run(ctx, op); ok {
			return res, err
		}
	}
	rdb := e.rdb
	switch op.Kind {
	case ops.KVGet:
		b, err := sendOnce(ctx, rdb, func(r redis.Cmdable) *redis.StringCmd { return r.Get(ctx, op.Key) }).Bytes()
		if err == redis.Nil {
			return ops.Result{}, nil
		}
		return ops.Result{Value: b, Bool: err == nil}, err
	case ops.KVSet:
		return ops.Result{}, sendOnce(ctx, rdb, func(r redis.Cmdable) *redis.StatusCmd { return r.Set(ctx, op.Key, op.Value, op.TTL) }).Err()
	case ops.KVRemove:
		n, err := sendOnce(ctx, rdb, func(r redis.Cmdable) *redis.IntCmd { return r.Del(ctx, op.Key) }).Result()
		return ops.Result{Int: n}, err
	case ops.KVExists:
		n, err := sendOnce(ctx, rdb, func(r redis.Cmdable) *redis.IntCmd { return r.Exists(ctx, op.Key) }).Result()
		return ops.Result{Bool: n == 1, Int: n}, err
	case ops.KVExpire, ops.KVTouch, ops.CounterExpire:
		ok, err := sendOnce(ctx, rdb, func(r redis.Cmdable) *redis.BoolCmd { return expire(ctx, r, op.Key, op.TTL) }).Result()
		return ops.Result{Bool: ok}, err
	case ops.CounterIncrement, ops.CounterDecrement:
		n, err := sendOnce(ctx, rdb, func(r redis.Cmdable) *redis.IntCmd {
			if op.N == 1 {
				return r.Incr(ctx, op.Key)
			}
			return r.IncrBy(ctx, op.Key, op.N)
		}).Result()
		return ops.Result{Int: n}, err
	case ops.ClaimOnce:
		if op.TTL == 0 { // SETNX, as the original (go-redis would send SET … NX)
			n, err := doOnce(ctx, rdb, "SETNX", op.Key, op.Value).Int64()
			return ops.Result{Bool: n == 1}, err
		}
		ok, err := sendOnce(ctx, rdb, func(r redis.Cmdable) *redis.BoolCmd { return r.SetNX(ctx, op.Key, op.Value, op.TTL) }).Result()
		return ops.Result{Bool: ok}, err
	case ops.BatchGet:
		return e.mget(ctx, op.Keys)
	case ops.BatchSet:
		return ops.Result{}, e.mset(ctx, op)
	case ops.EventsPublish:
		n, err := sendOnce(ctx, rdb, func(r redis.Cmdable) *redis.IntCmd { return r.Publish(ctx, op.Key, op.Value) }).Result()
		return ops.Result{Int: n}, err
	case ops.KVSetIfAbsent:
		return e.setIfAbsent(ctx, op)
	case ops.CounterGCRA:
		return e.gcra(ctx, op)
	case ops.StorePing:
		return ops.Result{}, rdb.Ping(ctx).Err() // read only, and keyless: go-redis may route it to every shard
	case ops.DevScan:
		if c, ok := rdb.(*redis.ClusterClient); ok {
			return clusterScan(ctx, c, op) // cluster_scan.go
		}
		keys, cursor, err := rdb.Scan(ctx, op.Cursor, op.Key, op.N).Result()
		return ops.Result{Strings: keys, Cursor: cursor}, err
	case ops.StreamAppend:
		return e.xadd(ctx, op)
	case ops.StreamRange:
		return e.xrange(ctx, op)
	case ops.StreamEnsure:
		return ops.Result{}, e.xgroupCreate(ctx, op)
	case ops.StreamRead:
		return e.xreadgroup(ctx, readConn(ctx, rdb), op)
	case ops.StreamAck:
		n, err := sendOnce(ctx, rdb, func(r redis.Cmdable) *redis.IntCmd { return r.XAck(ctx, op.Key, op.Stream.Group, op.Stream.IDs...) }).Result()
		return ops.Result{Int: n}, err
	case ops.StreamClaim:
		return e.xautoclaim(ctx, op)
	case ops.StreamRedrive:
		return e.redrive(ctx, op)
	case ops.StreamPending:
		return e.xpending(ctx, op)
	case ops.ClaimRelease:
		return e.claimRelease(ctx, op)
	case ops.LeaseAcquire:
		return e.leaseAcquire(ctx, op)
	case ops.LeaseExtend:
		return e.leaseExtend(ctx, op)
	case ops.LeaseRelease:
		return e.leaseRelease(ctx, op)
	}
	return ops.Result{}, ops.NewError(ops.CodeOperationFailed, op.Kind.Operation(), "the Redis executor does not run this operation", nil)
}

// expire makes EXPIRE for whole seconds, PEXPIRE for sub-second precision and PERSIST for 0
// (no expiry, the store's meaning of a zero TTL).
func expire(ctx context.Context, rdb redis.Cmdable, key string, ttl time.Duration) *redis.BoolCmd {
	switch {
	case ttl == 0:
		return rdb.Persist(ctx, key)
	case ttl%time.Second == 0:
		return rdb.Expire(ctx, key, ttl)
	}
	return rdb.PExpire(ctx, key, ttl)
}

func (e *Executor) mget(ctx context.Context, keys []string) (ops.Result, error) {
	if c, ok := e.rdb.(*redis.ClusterClient); ok {
		return clusterMGet(ctx, c, keys) // cluster_batch.go
	}
	vals, err := e.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return ops.Result{}, err
	}
	out := make([][]byte, len(vals))
	for i, v := range vals {
		if s, ok := v.(string); ok {
			out[i] = []byte(s)
		}
	}
	return ops.Result{Values: out}, nil
}

// mset writes a batch atomically on one node: MULTI, one MSET of the entries without a TTL, one
// SET … EX|PX per entry with a TTL (the original's commands, in its order), EXEC.
func (e *Executor) mset(ctx context.Context, op ops.Op) error {
	if c, ok := e.rdb.(*redis.ClusterClient); ok {
		return clusterMSet(ctx, c, op) // cluster_batch.go
	}
	b := op.Batch
	_, err := e.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		var plain []any
		for i, k := range op.Keys {
			if ttlAt(b, i) == 0 {
				plain = append(plain, k, b.Values[i])
			}
		}
		if len(plain) > 0 {
			p.MSet(ctx, plain...)
		}
		for i, k := range op.Keys {
			if ttl := ttlAt(b, i); ttl > 0 {
				p.Set(ctx, k, b.Values[i], ttl)
			}
		}
		return nil
	})
	return err
}

func ttlAt(b *ops.BatchArgs, i int) time.Duration {
	if b.TTLs == nil {
		return 0
	}
	return b.TTLs[i]
}
