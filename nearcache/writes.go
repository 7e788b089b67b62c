package nearcache

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/ops"
)

// ownWrites is how the near cache hears of its store's kv writes (client.KVWriteWatcher): the
// keys under its prefix go to the cache's write table.
type ownWrites struct {
	prefix string // <store prefix>:kv:
	cache  *observed
}

// BeginKVWrite runs before the write is sent: the key is marked as being written, then its
// entry, and any fetch of it in flight, is dropped. In that order: a fetch that reserves the key
// after the drop finds the mark and is not cached (observed.Reserve), so from here until the
// write ends every read of the key reads Redis.
func (w ownWrites) BeginKVWrite(key string) {
	if strings.HasPrefix(key, w.prefix) {
		w.cache.writes.begin(key, w.cache.drop)
	}
}

// EndKVWrite runs once nothing of the write can reach Redis any more: usually before it returns,
// and for a write whose caller left while the store's pipeline still held it, once the pipeline
// answered or dropped it (client.KVWriteWatcher).
func (w ownWrites) EndKVWrite(key string, err error) {
	if strings.HasPrefix(key, w.prefix) {
		w.cache.writes.end(key, err)
	}
}

// writeTable holds the keys the near cache must not cache: those with a write of its store in
// flight (begun, and not ended: until nothing of it can reach Redis any more, which for a write
// the store's pipeline still held when its caller left is after the write returned), and those
// whose last write's outcome is unknown (its reply lost, its deadline passed after it was
// written): Redis may still apply such a write after it ended (a frozen server runs what it was
// sent once thawed), and a value cached before that would then be served after a read of Redis
// returned the newer one. A key leaves the unknown set when a write of it that ends later is
// acknowledged: by the time Redis answered that write it has run the lost one, whose bytes the
// store had written before the lost write ended (the package doc names the limit: bytes the
// network delays longer). A write that never reached Redis changes nothing. At most max keys
// are kept unknown; past that the oldest is forgotten.
//
// It is consulted on the miss path only (observed.Reserve, and Near.fetch before it would learn
// an expiry); a hit loads changes, nothing more: an entry exists only if no write of its key
// began since its fetch was reserved, because each write drops the key's entry before it is sent.
type writeTable struct {
	mu       sync.Mutex
	inFlight map[string]int    // full key → writes begun and not ended
	unknown  map[string]uint64 // full key → when it was marked (seq), for forgetting the oldest
	order    []marked          // unknown's keys in the order they were marked; may hold stale marks
	seq      uint64
	writing  int // writes in flight, all keys: what busyAny reads
	max      int
	// changes counts the changes of the table (each write's beginning, after its drop, and end),
	// made under mu: a reader that loads it before reading Redis learns from readFromRedis
	// whether the key stayed uncacheable meanwhile. Every read loads it, hits included, so it
	// sits on a cache line of its own: the fields above change with every write of any key,
	// and sharing their line would make each hit a cache miss under writes.
	_       [64]byte
	changes atomic.Uint64
	_       [56]byte
}

// marked is one entry of writeTable.order.
type marked struct {
	key string
	seq uint64
}

func newWriteTable(max int) *writeTable {
	return &writeTable{inFlight: map[string]int{}, unknown: map[string]uint64{}, max: max}
}

// begin marks key as being written, then calls drop(key) to drop its entry.
func (t *writeTable) begin(key string, drop func(string)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.inFlight[key]++
	t.writing++
	drop(key)
	t.changes.Add(1) // after the drop: see readFromRedis
}

func (t *writeTable) end(key string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.changes.Add(1)
	if n := t.inFlight[key]; n > 1 {
		t.inFlight[key] = n - 1
	} else {
		delete(t.inFlight, key)
	}
	t.writing--
	switch {
	case err == nil: // acknowledged: applied, after any earlier write of the key Redis received
		delete(t.unknown, key)
	case errors.Is(err, client.ErrWriteNotSent), errors.Is(err, ops.ErrInvalid): // never reached Redis: changes nothing
	default:
		t.markUnknown(key)
	}
}

// markUnknown adds key to the unknown set, forgetting the oldest key when the set is full.
func (t *writeTable) markUnknown(key string) {
	t.seq++
	t.unknown[key] = t.seq
	t.order = append(t.order, marked{key, t.seq})
	for len(t.unknown) > t.max {
		oldest := t.order[0]
		t.order = t.order[1:]
		if t.unknown[oldest.key] == oldest.seq {
			delete(t.unknown, oldest.key)
		}
	}
	if len(t.order) > 2*len(t.unknown)+16 { // mostly stale marks (keys acknowledged or marked again since)
		live := make([]marked, 0, len(t.unknown))
		for _, m := range t.order {
			if t.unknown[m.key] == m.seq {
				live = append(live, m)
			}
		}
		t.order = live
	}
}

// busy reports whether key (a full Redis key) is being written or its last write's outcome is
// unknown.
func (t *writeTable) busy(key string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.busyLocked(key)
}

func (t *writeTable) busyLocked(key string) bool {
	_, unknown := t.unknown[key]
	return unknown || t.inFlight[key] > 0
}

// readFromRedis reports whether a read of key that loaded changes (as since) before it began,
// and has its value now, read it from Redis during that time: the key was busy all along, its
// entry dropped before since was counted and nothing cached for it since (observed.Reserve). Such
// a value needs no expiry learnt: no entry holds it.
func (t *writeTable) readFromRedis(key string, since uint64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.changes.Load() == since && t.busyLocked(key)
}

// busyAny is busy for every key at once: for a key the near cache cannot name (a go-redis
// namespace other than the one expected; see observed.nsWrong).
func (t *writeTable) busyAny() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.writing > 0 || len(t.unknown) > 0
}
