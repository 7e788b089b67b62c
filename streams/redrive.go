package streams

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/igniter-go/store/internal/codec"
	"github.com/igniter-go/store/internal/executor"
	"github.com/igniter-go/store/internal/keyspace"
	"github.com/igniter-go/store/internal/storecore"
	"github.com/igniter-go/store/ops"
)

// The fields a redrive adds to an entry beside data (and trace). The message is read from data
// alone, so handlers see it as it was first appended (the original's parsing ignores other
// fields too, spec §7); a handler that wants the history reads it with [RedriveHistory]. Normal
// entries carry none of them: their wire format is the original's, a data field holding JSON.
const (
	// RedriveGroupField names the consumer group the entry was dead-lettered from, the only
	// group a redrive delivers it to again. A consume loop ([Group.Consume]) of any other group
	// acks the entry without calling its handler and reports ops.SignalRedriveSkipped: that
	// group had the entry already, as first appended. Group.Read, Range and the original's
	// readers return the entry as stored; code reading a group by hand skips an entry whose
	// RedriveGroupField names another group.
	RedriveGroupField = "redrive_group"
	// RedriveOriginField holds the id the entry had when it was first appended, before any
	// redrive.
	RedriveOriginField = "redrive_origin"
	// RedriveHistoryField holds the entry's dead-letter history as a JSON array of
	// [DeadLetterRecord], oldest first.
	RedriveHistoryField = "redrive_history"
)

// Defaults of [RedriveOptions].
const (
	// DefaultRedriveBatch is how many dead letters a redrive reads per round.
	DefaultRedriveBatch = 100
	// DefaultRedriveMarkerTTL is how long a redrive remembers that it moved a dead letter.
	DefaultRedriveMarkerTTL = 24 * time.Hour
)

// RedriveOptions configure [Streams.Redrive]. The zero value moves every dead letter of the
// stream back to it.
type RedriveOptions struct {
	// DeadLetter is the dead-letter stream, as [ConsumeOptions.DeadLetter]. Default:
	// "<stream>:dead".
	DeadLetter string
	// Start and End bound the dead letters considered by their ids in the dead-letter stream
	// (when they were dead-lettered), inclusive, as [RangeOptions]. Default "-" and "+": all.
	Start, End string
	// Filter, when set, picks the dead letters to move; the others stay. Default: all of the
	// stream's.
	Filter func(dl DeadLetter) bool
	// Batch is how many dead letters are read per round. Default [DefaultRedriveBatch].
	Batch int64
	// MarkerTTL is how long the marker that a dead letter was moved is kept (see
	// [Streams.Redrive]). Default [DefaultRedriveMarkerTTL].
	MarkerTTL time.Duration
}

// RedriveResult counts what a redrive did.
type RedriveResult struct {
	// Moved is the number of dead letters moved back to the stream.
	Moved int64
	// Dropped is the number of dead letters removed without being moved because the same
	// stream entry had been moved already: a duplicate dead letter (the consume loop may write
	// one twice when an ack fails), or one a concurrent or earlier redrive moved.
	Dropped int64
	// Skipped is the number of entries left in the dead-letter stream: refused by the filter,
	// dead letters of another stream, or entries that are not dead letters.
	Skipped int64
}

// DeadLetterRecord is one death of an entry in its redrive history ([RedriveHistory]).
type DeadLetterRecord struct {
	// ID is the entry's id in its stream when it died.
	ID string `json:"id"`
	// DeadID is the id of its dead letter.
	DeadID string `json:"dead_id"`
	// Group and Consumer say where it failed.
	Group    string `json:"group"`
	Consumer string `json:"consumer"`
	// Error is its last failure, and Deliveries how often it was delivered.
	Error      string `json:"error"`
	Deliveries int64  `json:"deliveries"`
}

// Redrive moves the dead letters of stream (from opts.DeadLetter, "<stream>:dead") back to
// stream: all of them, those with dead-letter ids between opts.Start and opts.End, and of those
// the ones opts.Filter accepts. Each becomes a new entry (XADD *) with the original message in
// data and extra fields the message does not include: [RedriveGroupField] (the group it was
// dead-lettered from), [RedriveOriginField] (the id it was first appended with) and
// [RedriveHistoryField] (every time it died, with its error). It is removed from the
// dead-letter stream. Entries of the dead-letter stream that are not dead letters of stream are
// left alone.
//
// The new entry is delivered again only to the group that dead-lettered it: the stream is shared,
// so every group reads the new entry, but the consume loops of the other groups, which handled
// (or skipped) the entry when it was first appended, ack it without calling their handlers, and
// report each as ops.SignalRedriveSkipped. A group created later from an earlier id handles the
// original entry once and skips the redriven one. This holds for [Group.Consume] loops of this
// library; Group.Read and readers that do not know [RedriveGroupField] (the original's) see the
// new entry as a normal one and handle it again. A dead letter without a group (written by
// something else) is redriven to every group, as before.
//
// Each dead letter is moved at most once, even when redrives run concurrently, are interrupted
// (a cancelled ctx stops between two moves and returns what was done with STORE_CANCELED),
// or are retried after a lost reply. Each move is one stream.redrive operation: a Lua script
// that deletes the dead letter (XDEL), sets a marker key for the entry (SET NX PX MarkerTTL, in
// the stream's hash slot: "{<stream key>}:redriven:<id>", or the tag forms of [Lease.Fence])
// and, only if both did something, appends it (XADD). The marker also drops a second dead
// letter of the same entry. On Redis Cluster, when the stream and the dead-letter stream are
// in different hash slots, the move takes two steps: the marker and XADD in one script on the
// stream's node, then the XDEL; an interruption between the two leaves the dead letter, and the
// next redrive finds its marker and only deletes it, as long as it runs within MarkerTTL. Name
// streams with a hash tag ("{orders}", dead letters "{orders}:dead") to keep each move atomic.
func (st Streams) Redrive(ctx context.Context, stream string, opts RedriveOptions) (RedriveResult, error) {
	s := st.store()
	var res RedriveResult
	if stream == "" {
		_, err := s.Reject(ctx, streamOp(s, ops.StreamRedrive, stream), errStreamName(ops.StreamRedrive))
		return res, err
	}
	if opts.Batch < 0 || opts.MarkerTTL < 0 {
		_, err := s.Reject(ctx, streamOp(s, ops.StreamRedrive, stream), ops.Invalid(ops.CodeConfigurationInvalid,
			ops.StreamRedrive.Operation(), "RedriveOptions.Batch and MarkerTTL must not be negative", nil))
		return res, err
	}
	dead := opts.DeadLetter
	if dead == "" {
		dead = stream + ":dead"
	}
	batch := opts.Batch
	if batch == 0 {
		batch = DefaultRedriveBatch
	}
	markerTTL := opts.MarkerTTL
	if markerTTL == 0 {
		markerTTL = DefaultRedriveMarkerTTL
	}
	start, end := opts.Start, opts.End
	if start == "" {
		start = "-"
	}
	for {
		entries, err := st.Range(ctx, dead, RangeOptions{Start: start, End: end, Count: batch})
		if err != nil {
			return res, err
		}
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				return res, ops.Failure(ops.StreamRedrive, ops.ErrCanceled, err)
			}
			var dl DeadLetter
			if e.Decode(&dl) != nil || dl.Stream != stream || dl.ID == "" || len(dl.Message) == 0 ||
				opts.Filter != nil && !opts.Filter(dl) {
				res.Skipped++
				continue
			}
			moved, err := st.redriveOne(ctx, stream, dead, e, dl, markerTTL)
			if err != nil {
				return res, err
			}
			switch moved {
			case 1:
				res.Moved++
			case -1:
				res.Dropped++
			}
		}
		if int64(len(entries)) < batch {
			return res, nil
		}
		start = nextID(entries[len(entries)-1].ID)
	}
}

// redriveOne moves one dead letter: 1 moved, -1 dropped (its entry was moved before), 0 the
// dead letter was gone already (another redrive took it).
func (st Streams) redriveOne(ctx context.Context, stream, dead string, e Entry, dl DeadLetter, markerTTL time.Duration) (int64, error) {
	s := st.store()
	history := redriveHistory(dl.History)
	history = append(history, DeadLetterRecord{ID: dl.ID, DeadID: e.ID, Group: dl.Group, Consumer: dl.Consumer,
		Error: dl.Error, Deliveries: dl.Deliveries})
	hist, err := codec.Encode(history)
	if err != nil {
		return 0, ops.Failure(ops.StreamRedrive, ops.ErrFailed, err)
	}
	fields := []string{streamDataField, string(dl.Message), RedriveOriginField, history[0].ID, RedriveHistoryField, string(hist)}
	if dl.Group != "" {
		fields = append(fields, RedriveGroupField, dl.Group)
	}
	if trace := e.Fields[executor.StreamTraceField]; trace != "" {
		fields = append(fields, executor.StreamTraceField, trace)
	}
	op := streamOp(s, ops.StreamRedrive, stream)
	deadKey := s.Key(keyspace.NamespaceStreams, dead)
	op.Keys = []string{op.Key, deadKey, redriveMarkerKey(storePrefix(s), op.Key, dl.ID)}
	op.TTL = markerTTL
	op.Stream = &ops.StreamArgs{IDs: []string{e.ID}, Fields: fields}
	op.Idempotent = true // the marker and the XDEL make a second run a no-op
	r, err := s.Do(ctx, op)
	return r.Int, err
}

// RedriveHistory returns the dead-letter history a redrive stored in the entry
// ([RedriveHistoryField]), oldest first; nil for an entry that was never redriven.
func RedriveHistory(e Entry) []DeadLetterRecord {
	return redriveHistory(json.RawMessage(e.Fields[RedriveHistoryField]))
}

func redriveHistory(raw json.RawMessage) []DeadLetterRecord {
	if len(raw) == 0 {
		return nil
	}
	var h []DeadLetterRecord
	if json.Unmarshal(raw, &h) != nil {
		return nil // history written by someone else, in another shape: start again
	}
	return h
}

// redriveSegment names the redrive markers' place under a store prefix (see keyspace.Beside).
const redriveSegment = "streams.redriven"

// redriveMarkerKey is the key that records that the entry id of stream key k (the stream name
// under prefix's streams namespace) was moved back by a redrive: "<prefix>:streams.redriven:…
// <name>:<id>", under the store's prefix (so a Redis user confined to it by client's ACLRule may
// write it) and in k's hash slot (keyspace.Beside). Stream ids hold no ':', so the name and id are
// told apart at the last ':'.
func redriveMarkerKey(prefix, k, id string) string {
	name := strings.TrimPrefix(k, prefix+":"+keyspace.NamespaceStreams+":")
	return keyspace.Beside(prefix, redriveSegment, name+":"+id, k)
}

// nextID returns the smallest stream id after id ("ms-seq"), for an exclusive range start
// that works on every Redis version.
func nextID(id string) string {
	ms, seq, ok := strings.Cut(id, "-")
	if !ok {
		return id
	}
	n, err := strconv.ParseUint(seq, 10, 64)
	if err != nil {
		return id
	}
	if n == ^uint64(0) {
		m, _ := strconv.ParseUint(ms, 10, 64)
		return strconv.FormatUint(m+1, 10) + "-0"
	}
	return ms + "-" + strconv.FormatUint(n+1, 10)
}

// redrivenFor reports whether a consume loop of group must skip the entry with these fields: a
// redrive sent it back for another group ([RedriveGroupField]).
func redrivenFor(fields map[string]string, group string) bool {
	target, ok := fields[RedriveGroupField]
	return ok && target != "" && target != group
}

// historyField returns the redrive history an entry carries, for its next dead letter; nil
// when it has none (or none that is JSON).
func historyField(fields map[string]string) json.RawMessage {
	if h := fields[RedriveHistoryField]; h != "" && json.Valid([]byte(h)) {
		return json.RawMessage(h)
	}
	return nil
}

// storePrefix is the store's key prefix ("igniter:store:<service>{:<scope>:<id>}*").
func storePrefix(s storecore.Store) string {
	return strings.TrimSuffix(s.Key(keyspace.NamespaceStreams, ""), ":"+keyspace.NamespaceStreams+":")
}
