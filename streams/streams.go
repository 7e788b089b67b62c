package streams

import (
	"context"
	"fmt"
	"time"

	"github.com/igniter-go/store/internal/codec"
	"github.com/igniter-go/store/internal/keyspace"
	"github.com/igniter-go/store/internal/storecore"
	"github.com/igniter-go/store/ops"
)

// Streams appends to and reads Redis streams in the streams namespace:
// igniter:store:<service>{:<scope>:<id>}*:streams:<name>. Each entry holds its message as JSON in
// one field, data, as the original writes it, so Go and TypeScript services share streams.
//
// Get one from a built store's Streams field (client.Store.Streams); the package has no
// constructor. Streams is declared on the internal store handle, which client converts into a
// Streams for every store it makes, so that no function of this package takes an internal type.
type Streams storecore.Handle

// store returns the store st runs its operations on.
func (st Streams) store() storecore.Store { return storecore.Handle(st).Store() }

// AppendOptions configure [Streams.Append].
type AppendOptions struct {
	// MaxLen trims the stream to MaxLen entries as the entry is added (XADD MAXLEN n). 0 does
	// not trim (the original's maxLen: 0, which empties the stream, is not offered); negative is
	// STORE_CONFIGURATION_INVALID. Default: 0.
	MaxLen int64
	// Approximate trims with MAXLEN ~ n, which Redis does in whole nodes and much faster.
	// Ignored without MaxLen, as in the original. Default: false.
	Approximate bool
}

// RangeOptions configure [Streams.Range].
type RangeOptions struct {
	// Start is the lowest id to return, inclusive. Default: "-" (the first entry).
	Start string
	// End is the highest id to return, inclusive. Default: "+" (the last entry).
	End string
	// Count caps the number of entries (COUNT n). 0 returns them all. Default: 0.
	Count int64
	// Reverse returns the entries newest first (XREVRANGE end start). Start stays the lower
	// bound and End the upper bound, as in the original. Default: false.
	Reverse bool
}

// Append adds message to stream as JSON in the field data and returns the entry's id:
// XADD key [MAXLEN [~] n] * data <json>. With a [TraceCarrier] set, the producer's trace context
// travels in an extra field, trace, which the original ignores. An empty stream name is
// STORE_STREAM_NAME_REQUIRED; a message that cannot be encoded is STORE_SERIALIZATION_FAILED.
func (st Streams) Append(ctx context.Context, stream string, message any, opts AppendOptions) (string, error) {
	s := st.store()
	op := streamOp(s, ops.StreamAppend, stream)
	op.Stream = &ops.StreamArgs{Approx: opts.Approximate}
	var err error
	switch {
	case stream == "":
		err = errStreamName(ops.StreamAppend)
	case opts.MaxLen < 0:
		err = ops.Invalid(ops.CodeConfigurationInvalid, ops.StreamAppend.Operation(),
			fmt.Sprintf("MaxLen must be 0 (no trimming) or positive, got %d", opts.MaxLen), map[string]any{"maxLen": opts.MaxLen})
	default:
		op.Value, err = codec.EncodeFor(ops.StreamAppend, message)
	}
	if err != nil {
		_, err = s.Reject(ctx, op, err)
		return "", err
	}
	if opts.MaxLen > 0 {
		op.N, op.HasN = opts.MaxLen, true
	}
	if true {
		ctx = s.WithEntryTrace(ctx)
	}
	res, err := s.Do(ctx, op)
	if err != nil || len(res.Strings) == 0 {
		return "", err
	}
	return res.Strings[0], nil
}

// Range returns the entries of stream between opts.Start and opts.End (XRANGE, or XREVRANGE
// when Reverse), each parsed as the original parses it ([Entry]). A missing stream has no
// entries.
func (st Streams) Range(ctx context.Context, stream string, opts RangeOptions) ([]Entry, error) {
	s := st.store()
	op := streamOp(s, ops.StreamRange, stream)
	if stream == "" {
		_, err := s.Reject(ctx, op, errStreamName(ops.StreamRange))
		return nil, err
	}
	args := &ops.StreamArgs{Start: opts.Start, End: opts.End, Reverse: opts.Reverse}
	if args.Start == "" {
		args.Start = "-"
	}
	if args.End == "" {
		args.End = "+"
	}
	op.Stream = args
	if opts.Count > 0 {
		op.N, op.HasN = opts.Count, true
	}
	res, err := s.Do(ctx, op)
	if err != nil {
		return nil, err
	}
	return parseEntries(res.Entries), nil
}

// Group returns the consumer group group, read as consumer, for the group operations. The names
// are checked when an operation runs: an empty group is STORE_STREAM_GROUP_REQUIRED, an empty
// consumer STORE_STREAM_CONSUMER_REQUIRED (for the operations that need one).
func (st Streams) Group(group, consumer string) Group {
	return Group{s: st.store(), group: group, consumer: consumer}
}

// Group is one consumer of one consumer group: [Streams.Group].
type Group struct {
	s               storecore.Store
	group, consumer string
}

// Name returns the group's name.
func (g Group) Name() string { return g.group }

// Consumer returns the consumer's name.
func (g Group) Consumer() string { return g.consumer }

// EnsureOptions configure [Group.Ensure].
type EnsureOptions struct {
	// StartID is the id after which a new group starts reading: "0" for the whole stream, "$"
	// for entries added from now on. An existing group keeps its position. Default: "0".
	StartID string
}

// ReadOptions configure [Group.Read].
type ReadOptions struct {
	// Count caps the number of entries (COUNT n). 0 reads all that are new. Default: 0.
	Count int64
	// Block waits up to this long for new entries when there are none (BLOCK ms, rounded down
	// to whole milliseconds; under 1ms does not block). A blocking read runs on a connection of
	// its own (client.Builder.WithStreamConnections) and never holds up other operations. On a
	// single-node client it ends as soon as ctx ends (CLIENT UNBLOCK, sent on the adapter's
	// client); on Cluster and Ring clients it ends at Block. Default: 0.
	Block time.Duration
}

// Ensure creates the group on stream, and the stream if it does not exist:
// XGROUP CREATE key group <startId> MKSTREAM. A group that exists already is left as it is (the
// BUSYGROUP reply is not an error), so Ensure is idempotent and safe to retry.
func (g Group) Ensure(ctx context.Context, stream string, opts EnsureOptions) error {
	s := g.s
	op := g.op(ops.StreamEnsure, stream)
	op.Idempotent = true
	start := opts.StartID
	if start == "" {
		start = "0"
	}
	op.Stream.Start = start
	if err := g.check(ops.StreamEnsure, stream, false); err != nil {
		_, err = s.Reject(ctx, op, err)
		return err
	}
	_, err := s.Do(ctx, op)
	return err
}

// Read returns the entries of stream never delivered to the group, and makes them pending for
// this consumer until they are acked: XREADGROUP GROUP g c [COUNT n] [BLOCK ms] STREAMS key >.
// A read that times out returns no entries and no error. A group that does not exist is a
// STORE_STREAM_READ_FAILED error wrapping Redis's NOGROUP reply.
func (g Group) Read(ctx context.Context, stream string, opts ReadOptions) ([]Entry, error) {
	res, err := g.read(ctx, stream, opts)
	if err != nil {
		return nil, err
	}
	return parseEntries(res.Entries), nil
}

// blockReadMargin is how long past its Block a blocking read waits for its reply before it
// fails with STORE_TIMEOUT (a server that stopped answering).
const blockReadMargin = time.Second

func (g Group) read(ctx context.Context, stream string, opts ReadOptions) (ops.Result, error) {
	s := g.s
	op := g.op(ops.StreamRead, stream)
	if opts.Count > 0 {
		op.N, op.HasN = opts.Count, true
	}
	if err := g.check(ops.StreamRead, stream, true); err != nil {
		return s.Reject(ctx, op, err)
	}
	if opts.Block < time.Millisecond {
		return s.Do(ctx, op)
	}
	op.Stream.Block = opts.Block.Truncate(time.Millisecond)
	l, err := s.Blocking().Acquire(ctx, ops.StreamRead)
	if err != nil {
		return s.Reject(ctx, op, err)
	}
	stop := l.Watch(ctx)
	// The read's deadline is Block plus a margin, not the store's default plus Block: go-redis
	// does not end a read when its ctx is canceled, and the CLIENT UNBLOCK that Watch sends goes
	// to the same server, so on a server that stopped answering only the socket deadline ends
	// the read, and with it the shutdown of a consume loop.
	rctx, cancel := context.WithTimeout(ctx, op.Stream.Block+blockReadMargin)
	res, err := s.Do(l.Context(rctx), op)
	cancel()
	stop()
	l.Release(err == nil)
	if err == nil && len(res.Entries) == 0 && ctx.Err() != nil { // unblocked because ctx ended
		return ops.Result{}, ops.Failure(ops.StreamRead, ops.ErrCanceled, ctx.Err())
	}
	return res, err
}

// Ack acknowledges entries of stream for the group, so they leave its pending list:
// XACK key group id…. It returns how many were pending. No ids sends nothing.
func (g Group) Ack(ctx context.Context, stream string, ids ...string) (int64, error) {
	s := g.s
	op := g.op(ops.StreamAck, stream)
	op.Idempotent = true
	op.Stream.IDs = ids
	op.N = int64(len(ids))
	if err := g.check(ops.StreamAck, stream, false); err != nil {
		_, err = s.Reject(ctx, op, err)
		return 0, err
	}
	if len(ids) == 0 {
		return 0, nil
	}
	res, err := s.Do(ctx, op)
	return res.Int, err
}

// op returns an Op of a group operation on stream.
func (g Group) op(kind ops.Kind, stream string) ops.Op {
	op := streamOp(g.s, kind, stream)
	op.Stream = &ops.StreamArgs{Group: g.group, Consumer: g.consumer}
	return op
}

// check validates the names of a group operation, in the order stream, group, consumer.
func (g Group) check(kind ops.Kind, stream string, needConsumer bool) error {
	switch {
	case stream == "":
		return errStreamName(kind)
	case g.group == "":
		return ops.Invalid(ops.CodeStreamGroupRequired, kind.Operation(), "Stream group is required", nil)
	case needConsumer && g.consumer == "":
		return ops.Invalid(ops.CodeStreamConsumerRequired, kind.Operation(), "Stream consumer is required", nil)
	}
	return nil
}

// streamOp returns an Op of kind on stream: Name is the stream name (telemetry may carry it),
// Key the full key.
func streamOp(s storecore.Store, kind ops.Kind, stream string) ops.Op {
	op := s.Op(kind)
	op.Name = stream
	if stream != "" {
		op.Key = s.Key(keyspace.NamespaceStreams, stream)
	}
	return op
}

func errStreamName(kind ops.Kind) error {
	return ops.Invalid(ops.CodeStreamNameRequired, kind.Operation(), "Stream name is required", nil)
}
