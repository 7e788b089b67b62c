package ops

import "time"

// Op is one logical store operation. It is a plain value: a middleware receives a copy and passes
// a (possibly changed) copy on. Slices are shared with the caller: never write into Keys, Value,
// Values, TTLs or IDs in place; build a new slice instead.
//
// Keys are full Redis keys (the store adds the igniter:store:<service>… prefix before the Op is
// built). Telemetry must read only Kind, Service, ScopeKey, ScopeDepth, Name and the numeric
// fields: keys, values and scope ids never leave the store through telemetry.
type Op struct {
	Kind Kind

	// Service is the store's service name.
	Service string
	// ScopeKey is the key of the innermost scope ("" when unscoped). The scope id is not here on
	// purpose: it may name a tenant.
	ScopeKey string
	// ScopeDepth is the number of scopes applied.
	ScopeDepth int
	// Name is the user-facing name telemetry may carry: the event string of a publish or
	// subscription, the stream name of a stream operation. Empty for other kinds.
	Name string

	// Key is the Redis key (or channel, or scan pattern) of a single-key operation.
	Key string
	// Keys are the Redis keys of a multi-key operation (batch get and set).
	Keys []string
	// Value is the encoded payload of a single-key write (SET, PUBLISH, XADD) or the owner token
	// of a claim.
	Value []byte
	// TTL is the expiry of a write. 0 means no expiry; it is never negative in a valid Op.
	TTL time.Duration
	// N is the operation's number: the counter delta, the scan or read COUNT, the stream MAXLEN.
	N int64
	// HasN reports whether N was given, for the operations where 0 is a meaningful value
	// (stream MAXLEN 0, COUNT 0).
	HasN bool
	// Cursor is the SCAN cursor.
	Cursor uint64

	// Batch holds the payloads of a batch set; nil for other kinds.
	Batch *BatchArgs
	// Stream holds the arguments of the stream operations; nil for other kinds. Pointers keep
	// the Op small, so passing it by value through the chain stays cheap.
	Stream *StreamArgs
	// Rate holds the arguments of a rate-limit check (CounterGCRA); nil for other kinds.
	Rate *RateArgs

	// Idempotent reports whether running the Op twice has the effect of running it once, so a
	// retry after an ambiguous failure is safe. The store sets it to Kind.ReadOnly() unless the
	// caller opts a write in.
	Idempotent bool
}

// BatchArgs are the payloads of a batch set, parallel to the Op's Keys.
type BatchArgs struct {
	// Values are the encoded payloads.
	Values [][]byte
	// TTLs are the per-entry expiries; nil means none, 0 means no expiry.
	TTLs []time.Duration
}

// StreamArgs are the arguments of stream operations.
type StreamArgs struct {
	Group    string
	Consumer string
	// Start and End bound a range (XRANGE start end); Start is the group start id of an ensure.
	Start, End string
	// Block is how long a read may wait for entries; 0 does not block.
	Block time.Duration
	// MinIdle is the idle time after which a pending entry may be claimed (XAUTOCLAIM).
	MinIdle time.Duration
	// IDs are the entry ids of an ack.
	IDs []string
	// Approx trims with MAXLEN ~ rather than exactly.
	Approx bool
	// Reverse ranges newest first (XREVRANGE).
	Reverse bool
	// Fields are the field/value pairs of the entry a redrive adds (data first); IDs then holds
	// the dead letter's id.
	Fields []string
}

// Result is the reply to an Op. It is returned by the handler, never stored in the Op.
type Result struct {
	// Value is a single reply payload (GET); nil when the key was missing.
	Value []byte
	// Bool is a yes/no reply: GET found a value, EXISTS, a claim acquired.
	Bool bool
	// Int is an integer reply: the counter value, the number of keys affected, a fencing token.
	Int int64
	// Values are multi-key replies (MGET), parallel to the Op's Keys; nil means missing.
	Values [][]byte
	// Strings are string list replies: SCAN keys; a single id (XADD) is Strings[0].
	Strings []string
	// Cursor is the next SCAN cursor; 0 when the scan is complete.
	Cursor uint64
	// Entries are stream entries (XRANGE, XREADGROUP, XAUTOCLAIM).
	Entries []Entry
	// Rate is the reply of a rate-limit check (CounterGCRA); nil for other kinds.
	Rate *RateReply
}

// Entry is one stream entry: its id and its fields.
type Entry struct {
	ID     string
	Fields map[string]string
	// Deliveries is how many times the entry was delivered to a group (XPENDING / XAUTOCLAIM);
	// 0 when unknown.
	Deliveries int64
}
