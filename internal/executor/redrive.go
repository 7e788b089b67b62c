package executor

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/internal/keyspace"
	"github.com/igniter-go/store/ops"
)

// The scripts of stream.redrive. KEYS[1] is the stream, KEYS[2] the dead-letter stream, KEYS[3]
// the entry's marker; ARGV[1] the dead letter's id, ARGV[2] the marker's TTL in ms, ARGV[3…]
// the new entry's field/value pairs. They return 1 moved, -1 dropped (the entry was moved
// before), 0 the dead letter was gone.
var (
	// redriveScript moves a dead letter when all three keys are on one node.
	redriveScript = redis.NewScript(`
if redis.call('XDEL', KEYS[2], ARGV[1]) == 0 then return 0 end
if not redis.call('SET', KEYS[3], ARGV[1], 'NX', 'PX', ARGV[2]) then return -1 end
redis.call('XADD', KEYS[1], '*', unpack(ARGV, 3))
return 1`)

	// redriveAppendScript is the first step of a move across hash slots: the marker and the XADD,
	// on the stream's node (KEYS[1] the stream, KEYS[2] the marker; ARGV as above). The XDEL
	// follows.
	redriveAppendScript = redis.NewScript(`
if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return -1 end
redis.call('XADD', KEYS[1], '*', unpack(ARGV, 3))
return 1`)
)

// redrive: Int (and Bool) report the move. Keys are [stream, dead-letter stream,
// marker]; Stream.IDs[0] is the dead letter's id and Stream.Fields the new entry.
func (e *Executor) redrive(ctx context.Context, op ops.Op) (ops.Result, error) {
	id, fields := op.Stream.IDs[0], op.Stream.Fields
	args := make([]any, 0, 2+len(fields))
	args = append(args, id, op.TTL.Milliseconds())
	for _, f := range fields {
		args = append(args, f)
	}
	stream, dead, marker := op.Keys[0], op.Keys[1], op.Keys[2]
	if _, cluster := e.rdb.(*redis.ClusterClient); !cluster || keyspace.Slot(stream) == keyspace.Slot(dead) {
		n, err := redriveScript.Run(ctx, e.loneScripter(), op.Keys, args...).Int64()
		return ops.Result{Int: n, Bool: n == 1}, err
	}
	n, err := redriveAppendScript.Run(ctx, e.loneScripter(), []string{stream, marker}, args...).Int64()
	if err != nil {
		return ops.Result{}, err
	}
	// Moved now (1) or before (-1): either way the dead letter goes.
	if err := sendOnce(ctx, e.rdb, func(r redis.Cmdable) *redis.IntCmd { return r.XDel(ctx, dead, id) }).Err(); err != nil {
		if n == 1 && !maybeSent(err) && errors.Is(Category(err), ops.ErrUnavailable) {
			// The entry is back in the stream; only the dead letter's removal did not run.
			// STORE_CONNECTION_FAILED would say nothing was applied.
			return ops.Result{}, partlyApplied(op, err)
		}
		return ops.Result{}, err
	}
	return ops.Result{Int: n, Bool: n == 1}, nil
}
