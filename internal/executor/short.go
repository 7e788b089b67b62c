package executor

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/ops"
)

// The short kinds: KV get/set/remove/exists/expire/touch, counter increment/decrement/expire,
// Claim.Once, Batch.Get on one node and Events.Publish each send exactly one command. That command
// is built here (command) and its reply read here (reply), whichever way it travels (send): through
// the pipeline, lone on a cluster wrapped in noRetry, or on the client.
//
// The commands are byte for byte those of go-redis's typed methods (Get, Set, Del, Exists,
// Expire/PExpire/Persist, Incr/IncrBy, SetNX, MGet, Publish; the golden tests compare them), except
// Claim.Once without a TTL, which sends SETNX as the original does (go-redis's SetNX sends SET … NX).
//
// reply reads the command only when send returned nil. After a ctx error a pipelined command may
// still be queued or on the wire: go-redis's accessors on a command submitted to the deferred
// autopipeliner wait for its batch (they would hold the caller past its ctx) and read the fields its
// reader goroutine is still writing. The caller leaves with its ctx error; the pipeline drops the
// command if it was not written, and lets it run and discards its reply if it was
// (TestPipelineCancelOfAWrittenOpDiscardsItsReply, TestPipelineDropsAQueuedOpWhoseCtxEnds).

// command returns op's one command, or nil when op.Kind is not a short kind on this executor's
// client (Batch.Get on a cluster is one MGET per slot: cluster_batch.go).
func (e *Executor) command(ctx context.Context, op ops.Op) redis.Cmder {
	switch op.Kind {
	case ops.KVGet:
		return redis.NewStringCmd(ctx, "get", op.Key)
	case ops.KVSet:
		return redis.NewStatusCmd(ctx, setArgs(op.Key, op.Value, op.TTL, "")...)
	case ops.KVRemove:
		return redis.NewIntCmd(ctx, "del", op.Key)
	case ops.KVExists:
		return redis.NewIntCmd(ctx, "exists", op.Key)
	case ops.KVExpire, ops.KVTouch, ops.CounterExpire:
		return redis.NewBoolCmd(ctx, expireArgs(op.Key, op.TTL)...)
	case ops.CounterIncrement, ops.CounterDecrement:
		if op.N == 1 {
			return redis.NewIntCmd(ctx, "incr", op.Key)
		}
		return redis.NewIntCmd(ctx, "incrby", op.Key, op.N)
	case ops.ClaimOnce:
		if op.TTL == 0 { // SETNX, as the original
			return redis.NewIntCmd(ctx, "setnx", op.Key, op.Value)
		}
		return redis.NewBoolCmd(ctx, setArgs(op.Key, op.Value, op.TTL, "nx")...)
	case ops.BatchGet:
		if e.cluster != nil {
			return nil
		}
		args := make([]any, 1+len(op.Keys))
		args[0] = "mget"
		for i, k := range op.Keys {
			args[1+i] = k
		}
		return redis.NewSliceCmd(ctx, args...)
	case ops.EventsPublish:
		return redis.NewIntCmd(ctx, "publish", op.Key, op.Value)
	}
	return nil
}

// send sends a short kind's command and waits for its reply, or for ctx: through the pipeline
// when there is one (pipeline.do: lone or degraded ops go direct there, wrapped in noRetry on a
// cluster), else on the client, wrapped in noRetry on a cluster (noretry.go). The error is the
// command's outcome: a transport or ctx error, or its reply's error (redis.Nil included).
func (e *Executor) send(ctx context.Context, cmd redis.Cmder) error {
	if e.pipe != nil {
		return e.pipe.do(ctx, cmd)
	}
	if e.cluster != nil {
		err := e.cluster.Process(ctx, noRetry(cmd)) // never re-sent once written
		reloadOnFailure(e.cluster, err)
		return err
	}
	return e.rdb.Process(ctx, cmd)
}

// reply is op's result from its command cmd, which send ended with err. cmd is read only when
// err is nil (see the comment at the top of this file).
func reply(op ops.Op, cmd redis.Cmder, err error) (ops.Result, error) {
	if err == redis.Nil {
		switch op.Kind {
		case ops.KVGet: // a miss
			return ops.Result{}, nil
		case ops.ClaimOnce: // SET … NX that did not set (go-redis's BoolCmd reads it as false already)
			return ops.Result{}, nil
		}
	}
	if err != nil {
		return ops.Result{}, err
	}
	switch c := cmd.(type) {
	case *redis.StringCmd: // GET
		b, _ := c.Bytes()
		return ops.Result{Value: b, Bool: true}, nil
	case *redis.StatusCmd: // SET
		return ops.Result{}, nil
	case *redis.BoolCmd: // EXPIRE, PEXPIRE, PERSIST, SET … NX
		return ops.Result{Bool: c.Val()}, nil
	case *redis.SliceCmd: // MGET
		vals := c.Val()
		out := make([][]byte, len(vals))
		for i, v := range vals {
			if s, ok := v.(string); ok {
				out[i] = []byte(s)
			}
		}
		return ops.Result{Values: out}, nil
	case *redis.IntCmd:
		n := c.Val()
		switch op.Kind {
		case ops.KVExists:
			return ops.Result{Bool: n == 1, Int: n}, nil
		case ops.ClaimOnce: // SETNX
			return ops.Result{Bool: n == 1}, nil
		}
		return ops.Result{Int: n}, nil // DEL, INCR, INCRBY, PUBLISH
	}
	return ops.Result{}, nil
}

// setArgs builds SET key value [EX s|PX ms] [NX] exactly as go-redis's Set and SetNX do.
func setArgs(key string, value any, ttl time.Duration, mode string) []any {
	args := make([]any, 3, 6)
	args[0], args[1], args[2] = "set", key, value
	if ttl > 0 {
		if usePrecise(ttl) {
			args = append(args, "px", formatMs(ttl))
		} else {
			args = append(args, "ex", formatSec(ttl))
		}
	}
	if mode != "" {
		args = append(args, mode)
	}
	return args
}

// expireArgs: PERSIST for 0 (no expiry, the store's meaning of a zero TTL), EXPIRE for whole
// seconds, PEXPIRE otherwise, as go-redis's Persist, Expire and PExpire build them.
func expireArgs(key string, ttl time.Duration) []any {
	switch {
	case ttl == 0:
		return []any{"persist", key}
	case ttl%time.Second == 0:
		return []any{"expire", key, formatSec(ttl)}
	}
	return []any{"pexpire", key, formatMs(ttl)}
}

// usePrecise, formatMs and formatSec are go-redis's (commands.go), so the bytes on the wire
// stay those of its typed methods (the golden tests compare them).
func usePrecise(d time.Duration) bool { return d < time.Second || d%time.Second != 0 }

func formatMs(d time.Duration) int64 {
	if d > 0 && d < time.Millisecond {
		return 1
	}
	return int64(d / time.Millisecond)
}

func formatSec(d time.Duration) int64 {
	if d > 0 && d < time.Second {
		return 1
	}
	return int64(d / time.Second)
}
