package client

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/ops"
)

// executor runs Ops on a go-redis client. It is the end of every chain. It sends exactly the
// commands of the original (spec §6–§8) and maps every go-redis error to a coded error
// (redis_errors.go). It never retries.
type executor struct {
	rdb redis.UniversalClient
	// pipe, when set, carries the short commands of concurrent callers in shared batches
	// (executor_pipeline.go); everything else runs on rdb.
	pipe *pipeline
}

func newExecutor(rdb redis.UniversalClient) *executor { return &executor{rdb: rdb} }

func (e *executor) handle(ctx context.Context, op ops.Op) (ops.Result, error) {
	res, err := e.run(ctx, op)
	if err != nil {
		return ops.Result{}, mapError(op.Kind, err)
	}
	return res, nil
}

func (e *executor) run(ctx context.Context, op ops.Op) (ops.Result, error) {
	if e.pipe != nil {
		if res, ok, err := e.pipe.run(ctx, op); ok {
			return res, err
		}
	}
	rdb := e.rdb
	switch op.Kind {
	case ops.KVGet:
		b, err := rdb.Get(ctx, op.Key).Bytes()
		if err == redis.Nil {
			return ops.Result{}, nil
		}
		return ops.Result{Value: b, Bool: err == nil}, err
	case ops.KVSet:
		return ops.Result{}, rdb.Set(ctx, op.Key, op.Value, op.TTL).Err()
	case ops.KVRemove:
		n, err := rdb.Del(ctx, op.Key).Result()
		return ops.Result{Int: n}, err
	case ops.KVExists:
		n, err := rdb.Exists(ctx, op.Key).Result()
		return ops.Result{Bool: n == 1, Int: n}, err
	case ops.KVExpire, ops.KVTouch, ops.CounterExpire:
		ok, err := expire(ctx, rdb, op.Key, op.TTL)
		return ops.Result{Bool: ok}, err
	case ops.CounterIncrement, ops.CounterDecrement:
		var n int64
		var err error
		if op.N == 1 {
			n, err = rdb.Incr(ctx, op.Key).Result()
		} else {
			n, err = rdb.IncrBy(ctx, op.Key, op.N).Result()
		}
		return ops.Result{Int: n}, err
	case ops.ClaimOnce:
		if op.TTL == 0 { // SETNX, as the original (go-redis would send SET … NX)
			n, err := rdb.Do(ctx, "SETNX", op.Key, op.Value).Int64()
			return ops.Result{Bool: n == 1}, err
		}
		ok, err := rdb.SetNX(ctx, op.Key, op.Value, op.TTL).Result()
		return ops.Result{Bool: ok}, err
	case ops.BatchGet:
		return e.mget(ctx, op.Keys)
	case ops.BatchSet:
		return ops.Result{}, e.mset(ctx, op)
	case ops.EventsPublish:
		n, err := rdb.Publish(ctx, op.Key, op.Value).Result()
		return ops.Result{Int: n}, err
	case ops.DevScan:
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
		n, err := rdb.XAck(ctx, op.Key, op.Stream.Group, op.Stream.IDs...).Result()
		return ops.Result{Int: n}, err
	case ops.StreamClaim:
		return e.xautoclaim(ctx, op)
	}
	if run := extraKinds[op.Kind]; run != nil {
		return run(ctx, e, op)
	}
	return ops.Result{}, ops.NewError(ops.CodeOperationFailed, op.Kind.Operation(), "the Redis executor does not run this operation", nil)
}

// extraKinds runs the kinds whose Redis commands live in their feature's own file (scripts of
// claims and leases…). Filled by init functions, read-only afterwards.
var extraKinds = map[ops.Kind]func(ctx context.Context, e *executor, op ops.Op) (ops.Result, error){}

// expire sends EXPIRE for whole seconds, PEXPIRE for sub-second precision and PERSIST for 0
// (no expiry, the store's meaning of a zero TTL).
func expire(ctx context.Context, rdb redis.UniversalClient, key string, ttl time.Duration) (bool, error) {
	switch {
	case ttl == 0:
		return rdb.Persist(ctx, key).Result()
	case ttl%time.Second == 0:
		return rdb.Expire(ctx, key, ttl).Result()
	}
	return rdb.PExpire(ctx, key, ttl).Result()
}

func (e *executor) mget(ctx context.Context, keys []string) (ops.Result, error) {
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
func (e *executor) mset(ctx context.Context, op ops.Op) error {
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

func (e *executor) xadd(ctx context.Context, op ops.Op) (ops.Result, error) {
	args := make([]any, 0, 8)
	args = append(args, "XADD", op.Key)
	if op.HasN {
		args = append(args, "MAXLEN")
		if op.Stream != nil && op.Stream.Approx {
			args = append(args, "~")
		}
		args = append(args, op.N)
	}
	args = append(args, "*", "data", op.Value)
	if trace := entryTrace(ctx); trace != "" {
		args = append(args, streamTraceField, trace)
	}
	id, err := e.rdb.Do(ctx, args...).Text()
	return ops.Result{Strings: []string{id}}, err
}

func (e *executor) xrange(ctx context.Context, op ops.Op) (ops.Result, error) {
	s := op.Stream
	start, end := s.Start, s.End
	var msgs []redis.XMessage
	var err error
	switch {
	case s.Reverse && op.HasN:
		msgs, err = e.rdb.XRevRangeN(ctx, op.Key, end, start, op.N).Result()
	case s.Reverse:
		msgs, err = e.rdb.XRevRange(ctx, op.Key, end, start).Result()
	case op.HasN:
		msgs, err = e.rdb.XRangeN(ctx, op.Key, start, end, op.N).Result()
	default:
		msgs, err = e.rdb.XRange(ctx, op.Key, start, end).Result()
	}
	return ops.Result{Entries: entries(msgs)}, err
}

func (e *executor) xgroupCreate(ctx context.Context, op ops.Op) error {
	err := e.rdb.XGroupCreateMkStream(ctx, op.Key, op.Stream.Group, op.Stream.Start).Err()
	if err != nil && redis.HasErrorPrefix(err, "BUSYGROUP") {
		return nil // idempotent, as the original: an existing group keeps its start id
	}
	return err
}

// xreadgroup reads new entries for a consumer (XREADGROUP … STREAMS key >). rdb is the
// connection to read on: blocking reads get one of their own.
func (e *executor) xreadgroup(ctx context.Context, rdb redis.Cmdable, op ops.Op) (ops.Result, error) {
	s := op.Stream
	args := &redis.XReadGroupArgs{Group: s.Group, Consumer: s.Consumer, Streams: []string{op.Key, ">"}, Block: -1}
	if op.HasN {
		args.Count = op.N
	}
	if s.Block > 0 {
		args.Block = s.Block
	}
	streams, err := rdb.XReadGroup(ctx, args).Result()
	if err == redis.Nil {
		return ops.Result{}, nil
	}
	if err != nil || len(streams) == 0 {
		return ops.Result{}, err
	}
	return ops.Result{Entries: entries(streams[0].Messages)}, nil
}

func (e *executor) xautoclaim(ctx context.Context, op ops.Op) (ops.Result, error) {
	s := op.Stream
	start := s.Start
	if start == "" {
		start = "0-0"
	}
	count := op.N
	if !op.HasN {
		count = 100
	}
	msgs, next, err := e.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
		Stream: op.Key, Group: s.Group, Consumer: s.Consumer, MinIdle: s.MinIdle, Start: start, Count: count,
	}).Result()
	return ops.Result{Entries: entries(msgs), Strings: []string{next}}, err
}

func entries(msgs []redis.XMessage) []ops.Entry {
	if len(msgs) == 0 {
		return nil
	}
	out := make([]ops.Entry, len(msgs))
	for i, m := range msgs {
		fields := make(map[string]string, len(m.Values))
		for k, v := range m.Values {
			switch t := v.(type) {
			case string:
				fields[k] = t
			case nil:
				fields[k] = ""
			default:
				fields[k] = fmt.Sprint(t)
			}
		}
		out[i] = ops.Entry{ID: m.ID, Fields: fields}
	}
	return out
}
