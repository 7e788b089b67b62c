package executor

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/ops"
)

// StreamTraceField is the optional entry field that carries the producer's trace context. The
// original reads only the field data, so the extra field is invisible to it.
const StreamTraceField = "trace"

func (e *Executor) xadd(ctx context.Context, op ops.Op) (ops.Result, error) {
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
		args = append(args, StreamTraceField, trace)
	}
	id, err := doOnce(ctx, e.rdb, args...).Text()
	return ops.Result{Strings: []string{id}}, err
}

func (e *Executor) xrange(ctx context.Context, op ops.Op) (ops.Result, error) {
	s := op.Stream
	start, end := s.Start, s.End
	msgs, err := sendOnce(ctx, e.rdb, func(r redis.Cmdable) *redis.XMessageSliceCmd {
		switch {
		case s.Reverse && op.HasN:
			return r.XRevRangeN(ctx, op.Key, end, start, op.N)
		case s.Reverse:
			return r.XRevRange(ctx, op.Key, end, start)
		case op.HasN:
			return r.XRangeN(ctx, op.Key, start, end, op.N)
		}
		return r.XRange(ctx, op.Key, start, end)
	}).Result()
	return ops.Result{Entries: entries(msgs)}, err
}

func (e *Executor) xgroupCreate(ctx context.Context, op ops.Op) error {
	err := sendOnce(ctx, e.rdb, func(r redis.Cmdable) *redis.StatusCmd {
		return r.XGroupCreateMkStream(ctx, op.Key, op.Stream.Group, op.Stream.Start)
	}).Err()
	if err != nil && redis.HasErrorPrefix(err, "BUSYGROUP") {
		return nil // idempotent, as the original: an existing group keeps its start id
	}
	return err
}

// xreadgroup reads new entries for a consumer (XREADGROUP … STREAMS key >). rdb is the
// connection to read on: blocking reads get one of their own (internal/blockconn), a
// ClusterClient of the store's on a cluster; sendOnce covers it as it covers the adapter's client:
// a read whose reply was lost is never sent again (it would deliver the next entries and leave
// the lost ones pending with nobody told), and a failure reloads that client's slot map.
func (e *Executor) xreadgroup(ctx context.Context, rdb redis.Cmdable, op ops.Op) (ops.Result, error) {
	s := op.Stream
	args := &redis.XReadGroupArgs{Group: s.Group, Consumer: s.Consumer, Streams: []string{op.Key, ">"}, Block: -1}
	if op.HasN {
		args.Count = op.N
	}
	if s.Block > 0 {
		args.Block = s.Block
	}
	streams, err := sendOnce(ctx, rdb, func(r redis.Cmdable) *redis.XStreamSliceCmd { return r.XReadGroup(ctx, args) }).Result()
	if err == redis.Nil {
		return ops.Result{}, nil
	}
	if err != nil || len(streams) == 0 {
		return ops.Result{}, err
	}
	return ops.Result{Entries: entries(streams[0].Messages)}, nil
}

// xautoclaim runs XAUTOCLAIM; with IDs it runs XCLAIM … JUSTID on those ids instead, which keeps
// their owner's claim fresh (it resets their idle time without raising their delivery count).
func (e *Executor) xautoclaim(ctx context.Context, op ops.Op) (ops.Result, error) {
	s := op.Stream
	if len(s.IDs) > 0 {
		ids, err := sendOnce(ctx, e.rdb, func(r redis.Cmdable) *redis.StringSliceCmd {
			return r.XClaimJustID(ctx, &redis.XClaimArgs{
				Stream: op.Key, Group: s.Group, Consumer: s.Consumer, MinIdle: s.MinIdle, Messages: s.IDs,
			})
		}).Result()
		out := make([]ops.Entry, len(ids))
		for i, id := range ids {
			out[i] = ops.Entry{ID: id}
		}
		return ops.Result{Entries: out}, err
	}
	start := s.Start
	if start == "" {
		start = "0-0"
	}
	count := op.N
	if !op.HasN {
		count = 100
	}
	msgs, next, err := sendOnce(ctx, e.rdb, func(r redis.Cmdable) *redis.XAutoClaimCmd {
		return r.XAutoClaim(ctx, &redis.XAutoClaimArgs{
			Stream: op.Key, Group: s.Group, Consumer: s.Consumer, MinIdle: s.MinIdle, Start: start, Count: count,
		})
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

// xpending runs a StreamPending Op. With op.Stream.Start set it lists pending entries with their
// delivery counts, XPENDING key group [IDLE ms] start end count [consumer] (Result.Entries, each
// with Deliveries and the field consumer). Without, it reports the groups of the stream,
// XINFO GROUPS key: one Result.Entries item per group, ID = group name, Fields pending, lag
// (-1 when Redis cannot tell), consumers and last-delivered-id.
func (e *Executor) xpending(ctx context.Context, op ops.Op) (ops.Result, error) {
	s := op.Stream
	if s.Start != "" {
		count := op.N
		if !op.HasN {
			count = 100
		}
		list, err := sendOnce(ctx, e.rdb, func(r redis.Cmdable) *redis.XPendingExtCmd {
			return r.XPendingExt(ctx, &redis.XPendingExtArgs{
				Stream: op.Key, Group: s.Group, Idle: s.MinIdle, Start: s.Start, End: s.End, Count: count, Consumer: s.Consumer,
			})
		}).Result()
		if err != nil {
			return ops.Result{}, err
		}
		out := make([]ops.Entry, len(list))
		for i, p := range list {
			out[i] = ops.Entry{ID: p.ID, Deliveries: p.RetryCount, Fields: map[string]string{"consumer": p.Consumer}}
		}
		return ops.Result{Entries: out}, nil
	}
	groups, err := sendOnce(ctx, e.rdb, func(r redis.Cmdable) *redis.XInfoGroupsCmd { return r.XInfoGroups(ctx, op.Key) }).Result()
	if err != nil {
		return ops.Result{}, err
	}
	out := make([]ops.Entry, len(groups))
	for i, g := range groups {
		out[i] = ops.Entry{ID: g.Name, Deliveries: g.Pending, Fields: map[string]string{
			"pending":           strconv.FormatInt(g.Pending, 10),
			"lag":               strconv.FormatInt(g.Lag, 10),
			"consumers":         strconv.FormatInt(g.Consumers, 10),
			"last-delivered-id": g.LastDeliveredID,
		}}
	}
	return ops.Result{Entries: out}, nil
}
