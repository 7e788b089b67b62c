package streams

import (
	"context"
	"strconv"
	"time"

	"github.com/igniter-go/store/ops"
)

// GroupLag is how far a consumer group is behind: [Group.Lag].
type GroupLag struct {
	// Lag is how many entries of the stream the group has not yet been given; -1 when Redis
	// cannot tell (after entries were deleted or trimmed in the range it has not read).
	Lag int64
	// Pending is how many entries were given to the group's consumers and not yet acked.
	Pending int64
}

// Lag reports the group's lag and pending count on stream (XINFO GROUPS). A group or stream
// that does not exist is STORE_STREAM_CLAIM_FAILED.
func (g Group) Lag(ctx context.Context, stream string) (GroupLag, error) {
	s := g.s
	op := g.op(ops.StreamPending, stream)
	if err := g.check(ops.StreamPending, stream, false); err != nil {
		_, err = s.Reject(ctx, op, err)
		return GroupLag{}, err
	}
	res, err := s.Do(ctx, op)
	if err != nil {
		return GroupLag{}, err
	}
	for _, e := range res.Entries {
		if e.ID == g.group {
			lag, _ := strconv.ParseInt(e.Fields["lag"], 10, 64)
			pending, _ := strconv.ParseInt(e.Fields["pending"], 10, 64)
			return GroupLag{Lag: lag, Pending: pending}, nil
		}
	}
	return GroupLag{}, ops.Failure(ops.StreamPending, ops.ErrFailed, errNoGroup)
}

type noGroupError struct{}

func (noGroupError) Error() string { return "NOGROUP the consumer group does not exist" }

var errNoGroup error = noGroupError{}

// deliveries returns how many times the pending entry id was delivered to the group, or 0 when
// it is no longer pending.
func (g Group) deliveries(ctx context.Context, stream, id string) (int64, error) {
	op := g.op(ops.StreamPending, stream)
	op.Stream.Start, op.Stream.End, op.Stream.Consumer = id, id, ""
	op.N, op.HasN = 1, true
	res, err := g.s.Do(ctx, op)
	if err != nil || len(res.Entries) == 0 {
		return 0, err
	}
	return res.Entries[0].Deliveries, nil
}

// deliveriesIn returns the delivery counts of this consumer's pending entries between the ids
// first and last (XPENDING key group first last count consumer), at most count of them.
func (g Group) deliveriesIn(ctx context.Context, stream, first, last string, count int64) (map[string]int64, error) {
	op := g.op(ops.StreamPending, stream)
	op.Stream.Start, op.Stream.End = first, last
	op.N, op.HasN = count, true
	res, err := g.s.Do(ctx, op)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(res.Entries))
	for _, e := range res.Entries {
		out[e.ID] = e.Deliveries
	}
	return out, nil
}

// autoclaim claims for this consumer up to count entries that have been pending for at least
// minIdle, from cursor on (XAUTOCLAIM). It returns them and the cursor to continue from ("0-0"
// when the pending list was scanned to its end).
func (g Group) autoclaim(ctx context.Context, stream, cursor string, minIdle time.Duration, count int64) ([]ops.Entry, string, error) {
	op := g.op(ops.StreamClaim, stream)
	op.Stream.Start, op.Stream.MinIdle = cursor, minIdle
	op.N, op.HasN = count, true
	res, err := g.s.Do(ctx, op)
	if err != nil {
		return nil, "", err
	}
	next := "0-0"
	if len(res.Strings) > 0 && res.Strings[0] != "" {
		next = res.Strings[0]
	}
	return res.Entries, next, nil
}

// touch resets the idle time of this consumer's pending entries ids (XCLAIM … 0 ids JUSTID): an
// entry in flight then never looks idle to a claim pass, of this consumer or another one, and its
// delivery count does not change.
func (g Group) touch(ctx context.Context, stream string, ids []string) error {
	op := g.op(ops.StreamClaim, stream)
	op.Stream.IDs = ids
	op.Idempotent = true
	_, err := g.s.Do(ctx, op)
	return err
}
