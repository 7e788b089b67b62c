package streams

import (
	"context"
	"time"

	"github.com/igniter-go/store/ops"
)

// ClaimOptions configure [Group.Claim].
type ClaimOptions struct {
	// MinIdle is how long an entry must have been pending to be claimed. Default: 0 (any).
	MinIdle time.Duration
	// Cursor continues a claim from where the last one stopped. Default: "0-0" (the start).
	Cursor string
	// Count caps the number of entries claimed. Default: 100.
	Count int64
}

// Claim takes over, for this consumer, the group's entries that have been pending for at least
// opts.MinIdle (XAUTOCLAIM key group consumer min-idle cursor COUNT n): those of consumers that
// died, or whose handling failed. It returns them, delivered again (their delivery counts go
// up), and the cursor to pass to the next call, "0-0" when the pending list was scanned to its
// end. [Group.Consume] does this for you.
func (g Group) Claim(ctx context.Context, stream string, opts ClaimOptions) ([]Entry, string, error) {
	if err := g.check(ops.StreamClaim, stream, true); err != nil {
		_, err = g.s.Reject(ctx, g.op(ops.StreamClaim, stream), err)
		return nil, "", err
	}
	if opts.MinIdle < 0 {
		_, err := g.s.Reject(ctx, g.op(ops.StreamClaim, stream), ops.Invalid(ops.CodeConfigurationInvalid,
			ops.StreamClaim.Operation(), "MinIdle must not be negative", nil))
		return nil, "", err
	}
	cursor, count := opts.Cursor, opts.Count
	if cursor == "" {
		cursor = "0-0"
	}
	if count <= 0 {
		count = 100
	}
	entries, next, err := g.autoclaim(ctx, stream, cursor, opts.MinIdle, count)
	if err != nil {
		return nil, "", err
	}
	return parseEntries(entries), next, nil
}

// PendingEntry is an entry delivered to a consumer of the group and not yet acked.
type PendingEntry struct {
	// ID is the entry's id.
	ID string
	// Consumer is the consumer that holds it.
	Consumer string
	// Deliveries is how many times it was delivered.
	Deliveries int64
}

// Pending lists up to count of the group's pending entries, oldest first, with the consumer
// holding each and its delivery count (XPENDING key group - + count). count ≤ 0 lists up to 100.
func (g Group) Pending(ctx context.Context, stream string, count int64) ([]PendingEntry, error) {
	op := g.op(ops.StreamPending, stream)
	if err := g.check(ops.StreamPending, stream, false); err != nil {
		_, err = g.s.Reject(ctx, op, err)
		return nil, err
	}
	if count <= 0 {
		count = 100
	}
	op.Stream.Start, op.Stream.End, op.Stream.Consumer = "-", "+", ""
	op.N, op.HasN = count, true
	res, err := g.s.Do(ctx, op)
	if err != nil {
		return nil, err
	}
	out := make([]PendingEntry, len(res.Entries))
	for i, e := range res.Entries {
		out[i] = PendingEntry{ID: e.ID, Consumer: e.Fields["consumer"], Deliveries: e.Deliveries}
	}
	return out, nil
}
