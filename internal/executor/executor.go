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
	// cluster is rdb when it is a *redis.ClusterClient (nil otherwise).
	cluster *redis.ClusterClient
	// pipe, when set, carries the short commands of concurrent callers in shared batches
	// (pipeline.go); everything else runs on rdb.
	pipe *pipeline
	// lone and piped are what scripts run on outside and inside the pipeline (pipeline.go),
	// built once so a script call allocates no adapter.
	lone, piped redis.Scripter
}

// New returns an Executor that sends on rdb.
func New(rdb redis.UniversalClient) *Executor {
	c, _ := rdb.(*redis.ClusterClient)
	return &Executor{rdb: rdb, cluster: c, lone: newLoneScripter(rdb)}
}

// Handle runs op: it is an ops.Handler.
func (e *Executor) Handle(ctx context.Context, op ops.Op) (ops.Result, error) {
	res, err := e.run(ctx, op) // noretry.go: go-redis never re-sends a store command once written
	if err != nil {
		reloadOnFailure(e.rdb, err)
		err = coded(op, err)
		if s := settleFor(ctx, op); s != nil {
			s.Failed(err)
		}
		return ops.Result{}, err
	}
	return res, nil
}

// coded maps a failure of op: STORE_OUTCOME_UNKNOWN when the command may have been sent
// (lostReplyOf), else MapError's code.
func coded(op ops.Op, err error) error {
	if lost := lostReplyOf(op, err); lost != nil {
		return lost
	}
	return MapError(op.Kind, err)
}

// run dispatches every kind the store has: the short kinds, which send one command, are built,
// sent and read in short.go, on every path (pipelined, direct, cluster); every other kind is in
// the switch. A kind missing from both is a bug that a test of every ops.Kind catches. Every
// command goes through send or sendOnce (noretry.go): on a cluster go-redis never sends it a
// second time once it may have been written.
func (e *Executor) run(ctx context.Context, op ops.Op) (ops.Result, error) {
	if cmd := e.command(ctx, op); cmd != nil { // short.go: the kinds that send one command
		return reply(op, cmd, e.send(ctx, cmd))
	}
	rdb := e.rdb
	switch op.Kind {
	case ops.BatchGet: // on a cluster (a short kind elsewhere): one MGET per slot
		if e.pipe != nil {
			return e.pipe.clusterMGet(ctx, op.Keys)
		}
		return clusterMGet(ctx, e.cluster, op.Keys) // cluster_batch.go
	case ops.BatchSet:
		return ops.Result{}, e.mset(ctx, op)
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
