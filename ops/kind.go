package ops

// Kind identifies a store operation. Its methods give the names the original
// @igniter-js/store uses for it in telemetry ([Kind.Group], [Kind.Event], [Kind.Operation]),
// the Redis command it sends ([Kind.Command]) and whether it only reads ([Kind.ReadOnly]).
type Kind uint8

// The operations of the store. The comment gives the Redis command each sends.
const (
	KindUnknown Kind = iota

	KVGet    // GET
	KVSet    // SET [EX|PX]
	KVRemove // DEL
	KVExists // EXISTS
	KVExpire // EXPIRE / PEXPIRE / PERSIST
	KVTouch  // EXPIRE / PEXPIRE / PERSIST (the original's touch is expire)

	CounterIncrement // INCR / INCRBY
	CounterDecrement // INCRBY -n
	CounterExpire    // EXPIRE / PEXPIRE / PERSIST

	ClaimOnce    // SET NX [EX|PX] / SETNX
	ClaimRelease // compare-and-delete script
	LeaseAcquire // SET NX PX + fencing INCR, in one script
	LeaseExtend  // compare-and-pexpire script
	LeaseRelease // compare-and-delete script

	BatchGet // MGET
	BatchSet // MULTI MSET / SET … EXEC

	EventsPublish     // PUBLISH
	EventsSubscribe   // SUBSCRIBE / PSUBSCRIBE
	EventsUnsubscribe // UNSUBSCRIBE / PUNSUBSCRIBE

	StreamAppend  // XADD
	StreamRange   // XRANGE / XREVRANGE
	StreamEnsure  // XGROUP CREATE … MKSTREAM
	StreamRead    // XREADGROUP
	StreamAck     // XACK
	StreamClaim   // XAUTOCLAIM
	StreamPending // XPENDING
	StreamRedrive // SET NX marker + XADD + XDEL, in one script (two on a cluster when the keys' slots differ)

	DevScan // SCAN

	KVSetIfAbsent // SET NX GET [PX]
	CounterGCRA   // GCRA rate-limit script (GET, SET PX) on one counter key

	StorePing // PING: Store.Ping, a readiness check

	kindCount
)

type kindInfo struct {
	group, event, operation, command, namespace string
	readOnly                                    bool
}

// kinds holds the names of every Kind. group/event give the telemetry name
// igniter.store.<group>.<event>.<phase>; operation is ctx.error.operation; namespace is the
// key namespace (kv, counter, claim, events, streams).
var kinds = [kindCount]kindInfo{
	KindUnknown: {"unknown", "unknown", "unknown", "UNKNOWN", "", false},

	KVGet:    {"kv", "get", "kv.get", "GET", "kv", true},
	KVSet:    {"kv", "set", "kv.set", "SET", "kv", false},
	KVRemove: {"kv", "remove", "kv.remove", "DEL", "kv", false},
	KVExists: {"kv", "exists", "kv.exists", "EXISTS", "kv", true},
	KVExpire: {"kv", "expire", "kv.expire", "EXPIRE", "kv", false},
	KVTouch:  {"kv", "touch", "kv.touch", "EXPIRE", "kv", false},

	CounterIncrement: {"counter", "increment", "counter.increment", "INCRBY", "counter", false},
	CounterDecrement: {"counter", "decrement", "counter.decrement", "INCRBY", "counter", false},
	CounterExpire:    {"counter", "expire", "counter.expire", "EXPIRE", "counter", false},

	ClaimOnce:    {"claim", "acquire", "claim.once", "SET", "claim", false},
	ClaimRelease: {"claim", "release", "claim.release", "EVALSHA", "claim", false},
	LeaseAcquire: {"lease", "acquire", "lease.acquire", "EVALSHA", "claim", false},
	LeaseExtend:  {"lease", "extend", "lease.extend", "EVALSHA", "claim", false},
	LeaseRelease: {"lease", "release", "lease.release", "EVALSHA", "claim", false},

	BatchGet: {"batch", "get", "batch.get", "MGET", "kv", true},
	BatchSet: {"batch", "set", "batch.set", "MSET", "kv", false},

	EventsPublish:     {"events", "publish", "events.publish", "PUBLISH", "events", false},
	EventsSubscribe:   {"events", "subscribe", "events.subscribe", "SUBSCRIBE", "events", false},
	EventsUnsubscribe: {"events", "unsubscribe", "events.unsubscribe", "UNSUBSCRIBE", "events", false},

	StreamAppend:  {"stream", "append", "stream.append", "XADD", "streams", false},
	StreamRange:   {"stream", "range", "stream.range", "XRANGE", "streams", true},
	StreamEnsure:  {"stream", "group", "stream.ensure", "XGROUP", "streams", false},
	StreamRead:    {"stream", "read", "stream.read", "XREADGROUP", "streams", false},
	StreamAck:     {"stream", "ack", "stream.ack", "XACK", "streams", false},
	StreamClaim:   {"stream", "claim", "stream.claim", "XAUTOCLAIM", "streams", false},
	StreamPending: {"stream", "pending", "stream.pending", "XPENDING", "streams", true},
	StreamRedrive: {"stream", "redrive", "stream.redrive", "EVALSHA", "streams", false},

	DevScan: {"dev", "scan", "dev.scan", "SCAN", "kv", true},

	KVSetIfAbsent: {"kv", "setIfAbsent", "kv.setIfAbsent", "SET", "kv", false},
	CounterGCRA:   {"counter", "gcra", "counter.gcra", "EVALSHA", "counter", false},

	StorePing: {"store", "ping", "store.ping", "PING", "", true},
}

func (k Kind) info() *kindInfo {
	if k >= kindCount {
		return &kinds[KindUnknown]
	}
	return &kinds[k]
}

// Kinds returns every known Kind, in declaration order.
func Kinds() []Kind {
	out := make([]Kind, 0, kindCount-1)
	for k := KindUnknown + 1; k < kindCount; k++ {
		out = append(out, k)
	}
	return out
}

// Group is the telemetry group and ctx.store.namespace attribute: kv, counter, claim, lease,
// batch, events, stream or dev.
func (k Kind) Group() string { return k.info().group }

// Event is the operation part of the telemetry name: igniter.store.<Group>.<Event>.<phase>.
func (k Kind) Event() string { return k.info().event }

// Operation is the original's operation string, carried as ctx.error.operation and in coded
// errors: "kv.get", "claim.once", "stream.ensure"…
func (k Kind) Operation() string { return k.info().operation }

// Command is the Redis command the operation sends (the main one, for those that send several).
// It is the db.operation.name of a span.
func (k Kind) Command() string { return k.info().command }

// Namespace is the key namespace the operation's keys live in: kv, counter, claim, events or
// streams.
func (k Kind) Namespace() string { return k.info().namespace }

// notRepeatable marks the kinds a second run does not leave as one run would: it changes Redis
// again (an increment, a GCRA check, a publish, an append, a fencing INCR), or it answers for the
// first run's effect (a claim or set-if-absent finds the caller's own key and says "not
// acquired"; a release finds nothing and says "not held"; a group read hands out other entries
// and leaves the first ones pending).
var notRepeatable = [kindCount]bool{
	CounterIncrement: true, CounterDecrement: true, CounterGCRA: true,
	ClaimOnce: true, ClaimRelease: true, LeaseAcquire: true, LeaseRelease: true,
	KVSetIfAbsent: true, EventsPublish: true, StreamAppend: true, StreamRead: true,
}

// Repeatable reports whether an Op of kind k may run twice with the outcome of one run, so that
// a caller's opt-in (retry.Idempotent) can make it retryable. Counter changes, claims, leases'
// acquire and release, SetIfAbsent, publishes, appends and group reads are not: the retry
// middleware never retries them, whatever the context says.
func (k Kind) Repeatable() bool { return int(k) >= len(notRepeatable) || !notRepeatable[k] }

// ReadOnly reports whether the operation never changes data. Read-only operations are
// idempotent, so they are retried by default.
func (k Kind) ReadOnly() bool { return k.info().readOnly }

// String returns [Kind.Operation].
func (k Kind) String() string { return k.Operation() }
