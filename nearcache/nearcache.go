package nearcache

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/codec"
	"github.com/igniter-go/store/middleware/timeout"
	"github.com/igniter-go/store/ops"
)

// operation names the near cache's failures in coded errors.
const operation = "nearcache.get"

// Options configure a [Near]. Every zero field means the default documented on it.
type Options struct {
	// Off turns the near cache off: Get reads through the store's KV (and its middleware), and
	// no connection is opened. Default false: on.
	Off bool
	// Redis are the connection options of the near cache's own client (address, credentials,
	// TLS, pool). Required unless Off. The near cache sets Protocol 3 (RESP3, for invalidation
	// pushes) and MaxRetries -1 itself; DB must be 0 (Redis tracks DB 0 only for go-redis);
	// credential providers are not supported (go-redis disables client-side caching with them).
	// It must reach the same server as the store, whose client must be a single-node
	// *redis.Client on DB 0 (client.Store.RedisTarget): New refuses any other store with
	// STORE_CONFIGURATION_INVALID, and logs a warning on the store's logger when the addresses
	// differ (a proxy or another name for the same server is fine).
	// The near cache also sets ContextTimeoutEnabled, so a read's ctx deadline bounds it (its
	// reads do not pass the store's middleware): a read whose ctx has no deadline gets
	// [timeout.Default] (5 s), and a read that reaches its deadline fails with STORE_TIMEOUT.
	// ReadTimeout or WriteTimeout -2 (no socket deadlines, which no ctx deadline can then end)
	// is STORE_CONFIGURATION_INVALID, as in client.Builder.Build.
	Redis *redis.Options
	// MaxEntries bounds the number of cached values, and the number of keys kept out of the
	// cache because their last write through the store had an unknown outcome (see the package
	// doc). Default 10,000.
	MaxEntries int
	// MaxMemoryBytes bounds their estimated size. Default 0: bounded by MaxEntries only.
	MaxMemoryBytes int64
	// MaxStaleness is the longest a cached value is served after it was fetched, invalidation or
	// not: the backstop for a lost or late invalidation from another client. Default 1 minute.
	MaxStaleness time.Duration
	// DrainInterval is how often idle connections are swept for invalidations and for being
	// closed: with scheduling delay, how long another client's write may still be read from an
	// idle connection's entries after its invalidation arrived. Default 5ms (go-redis's); go-redis
	// clamps it to at least 1ms.
	DrainInterval time.Duration
	// OnEvent is called after each invalidation or eviction is applied (never with a key). It
	// runs on go-redis's connection reader: return quickly. A panic in it is recovered and
	// reported to OnError as STORE_CALLBACK_PANIC; the near cache keeps working. Default: none.
	OnEvent func(Event)
	// OnError receives the near cache's background failures: a panic in OnEvent, as a
	// STORE_CALLBACK_PANIC error whose cause is an *ops.PanicValue (value and stack). It runs
	// on go-redis's connection reader; a panic in it is recovered and logged. Default: logged at
	// Error on the store's logger (client.Store.Logger).
	OnError func(error)
}

// EventKind is what happened to the near cache.
type EventKind uint8

const (
	// Invalidated: Redis said a key changed and its entry is gone.
	Invalidated EventKind = iota + 1
	// ConnectionLost: a connection closed and the entries it fetched are gone.
	ConnectionLost
	// Flushed: every entry is gone (FLUSHDB / FLUSHALL, or tracking lost as a whole).
	Flushed
)

// Event reports one invalidation or eviction.
type Event struct {
	Kind EventKind
	// Removed is how many entries it removed.
	Removed int
}

// Stats are the near cache's cumulative counts and current size.
type Stats struct {
	// Hits were answered from memory; Misses were fetched from Redis.
	Hits, Misses uint64
	// Invalidations are Redis's invalidation messages applied (one per key). A write of the near
	// cache's own store drops its entry before Redis's message arrives; the message is counted
	// then. A key read on several connections is invalidated on each.
	Invalidations uint64
	// ConnectionLosses are connections lost with entries on them; Evicted those entries.
	ConnectionLosses, Evicted uint64
	// Entries is the number of values cached now.
	Entries int
}

// Near reads a store's kv keys through an in-process cache kept coherent by Redis.
type Near struct {
	store     *client.Store
	prefix    string // <store prefix>:kv:
	rdb       *redis.Client
	cache     *observed
	stopWatch func() // ends the store's calls for its own writes (client.Store.WatchKVWrites)
	// read is fetch under the store's default deadline (the timeout middleware: a ctx without a
	// deadline gets timeout.Default, sharing a timer, so a hit allocates none).
	read ops.Handler
}

// New returns a near cache for store's kv namespace. Unless opts.Off it opens its own RESP3
// client (no connection until the first read). Invalid options are STORE_CONFIGURATION_INVALID,
// and so is a store whose keyspace the near cache's client would not read (see Options.Redis).
func New(store *client.Store, opts Options) (*Near, error) {
	if store == nil {
		return nil, ops.Invalid(ops.CodeConfigurationInvalid, "nearcache.new", "nearcache.New needs a store", nil)
	}
	n := &Near{store: store, prefix: store.Prefix() + ":kv:"}
	if opts.Off || store.ScopeError() != nil {
		return n, nil // reads go through KV, which applies the scope rules (STORE_SCOPE_REQUIRED)
	}
	if opts.Redis == nil || opts.Redis.DB != 0 || opts.Redis.CredentialsProvider != nil ||
		opts.Redis.CredentialsProviderContext != nil || opts.Redis.StreamingCredentialsProvider != nil {
		return nil, ops.Invalid(ops.CodeConfigurationInvalid, "nearcache.new",
			"the near cache needs Options.Redis, on DB 0, without a credentials provider", nil)
	}
	if opts.Redis.ReadTimeout == -2 || opts.Redis.WriteTimeout == -2 {
		return nil, ops.Invalid(ops.CodeConfigurationInvalid, "nearcache.new",
			"the near cache needs socket deadlines so a ctx deadline can end a read: Options.Redis ReadTimeout and WriteTimeout must not be -2", nil)
	}
	if err := checkTarget(store, opts.Redis); err != nil {
		return nil, err
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = 10_000
	}
	if opts.MaxStaleness <= 0 {
		opts.MaxStaleness = time.Minute
	}
	n.cache = &observed{LocalCache: redis.NewLocalCache(redis.CacheConfig{
		MaxEntries: opts.MaxEntries, MaxMemoryBytes: opts.MaxMemoryBytes,
		MaxStaleness: opts.MaxStaleness, DrainInterval: opts.DrainInterval,
	}), store: store, onEvent: opts.OnEvent, onError: opts.OnError,
		ns: redisNamespace(opts.Redis.Username), expiry: newDeadlines(deadlineSlots(opts.MaxEntries)),
		writes: newWriteTable(opts.MaxEntries)}
	ro := *opts.Redis
	ro.Protocol = 3
	ro.MaxRetries = -1
	ro.ContextTimeoutEnabled = true // the caller's deadline bounds a read, the handshake included
	ro.ClientSideCache = n.cache
	// go-redis takes the drainer's period from ClientSideCacheConfig only, even for an injected
	// cache (ClientSideCache wins for everything else): without it DrainInterval was ignored.
	ro.ClientSideCacheConfig = &redis.ClientSideCacheConfig{DrainInterval: opts.DrainInterval}
	n.rdb = redis.NewClient(&ro)
	n.read = timeout.New(timeout.Default)(n.fetch)
	n.stopWatch = store.WatchKVWrites(ownWrites{prefix: n.prefix, cache: n.cache})
	return n, nil
}

// checkTarget refuses a store whose keys the near cache's own client would not read: a store
// that does not run on a single-node go-redis client (a Cluster or Ring client, a
// HandlerAdapter), or whose client uses a DB other than 0, since the near cache reads DB 0.
// Each read would miss the store's writes, or return another keyspace's values, for good. An
// address other than the store's client's may still reach the same server (a proxy, another
// DNS name, Sentinel's failover client): it is allowed, and logged at Warn on the store's
// logger.
func checkTarget(store *client.Store, o *redis.Options) error {
	addr, db, ok := store.RedisTarget()
	switch {
	case !ok:
		return ops.Invalid(ops.CodeConfigurationInvalid, "nearcache.new",
			"the near cache needs a store on a single-node go-redis client (client.Redis with a *redis.Client); set Options.Off to read through the store", nil)
	case db != 0:
		return ops.Invalid(ops.CodeConfigurationInvalid, "nearcache.new",
			fmt.Sprintf("the store's client uses DB %d; the near cache reads DB 0, where it would never see the store's keys", db),
			map[string]any{"db": db})
	}
	near := o.Addr
	if near == "" && (o.Network == "" || o.Network == "tcp") {
		near = "localhost:6379" // go-redis's default, which the store's client's options already hold
	}
	if near != addr {
		store.Logger().Warn("nearcache: Options.Redis.Addr is not the address of the store's client; it must reach the same server, on DB 0",
			"store_addr", addr, "near_cache_addr", near)
	}
	return nil
}

// redisNamespace is the prefix go-redis puts before a Redis key in its cache (the DB, 0 here,
// and the fixed ACL user): invalidations name keys as namespace+key. If a go-redis version
// builds it otherwise, observed.Reserve notices and the near cache drops everything instead.
func redisNamespace(username string) string {
	return "0\x00" + strconv.Itoa(len(username)) + ":" + username + "\x00"
}

// Get decodes the value under key (in the store's kv namespace) into dst, as [client.KV.Get]
// does, and reports whether the key exists. A hit costs no network round trip. What it may
// return around a write is in the package doc: linearizable with the writes of its own store
// (while one of the key is in flight, reads of it read Redis); another client's write is seen
// once its invalidation is applied.
func (n *Near) Get(ctx context.Context, key string, dst any) (bool, error) {
	raw, found, err := n.GetRaw(ctx, key)
	if err != nil || !found {
		return false, err
	}
	if err := codec.Decode(raw, dst); err != nil {
		return true, ops.NewError(ops.CodeDeserializationFailed, operation, "Stored value cannot be decoded into the target", err)
	}
	return true, nil
}

// GetRaw returns the stored bytes under key, undecoded.
//
// A hit is served only before the expiry its key had when the value was fetched: the first read
// of a fetched value asks Redis for the key's PTTL (one more round trip per fetch; see the
// package doc for the rare hit that needs one) and the entry is dropped, and the key read again,
// once that instant passes — Redis sends no invalidation for a key that expires unread. Another
// client's later change of the TTL applies with its invalidation, like any write of theirs.
func (n *Near) GetRaw(ctx context.Context, key string) ([]byte, bool, error) {
	if n.rdb == nil {
		return n.store.KV.GetRaw(ctx, key)
	}
	if key == "" {
		return nil, false, ops.Invalid(ops.CodeKeyRequired, operation, "Key is required", nil)
	}
	res, err := n.read(ctx, ops.Op{Kind: ops.KVGet, Key: n.prefix + key})
	return res.Value, res.Bool, err
}

// fetch is GetRaw's read of the full key op.Key under the deadline read gives it.
func (n *Near) fetch(ctx context.Context, op ops.Op) (ops.Result, error) {
	full := op.Key
	for range 2 { // a second pass only after dropping an entry past its key's expiry
		since := n.cache.writes.changes.Load()
		b, err := n.rdb.Get(ctx, full).Bytes()
		switch {
		case err == redis.Nil:
			return ops.Result{}, nil
		case err != nil:
			return ops.Result{}, failure(err)
		}
		deadline, known := n.cache.expiry.lookup(full)
		if !known {
			if n.cache.writes.readFromRedis(full, since) {
				// A key being written (or of unknown outcome) is read from Redis and cached
				// nowhere: no entry to bound by its expiry, no PTTL round trip.
				return ops.Result{Value: b, Bool: true}, nil
			}
			b, found, err := n.learnExpiry(ctx, full, b)
			return ops.Result{Value: b, Bool: found}, err
		}
		if n.cache.expiry.now() < deadline {
			return ops.Result{Value: b, Bool: true}, nil
		}
		n.cache.drop(full)
	}
	return ops.Result{}, nil // expired twice in a row: the key expires as it is read
}

// learnExpiry asks Redis for the PTTL of full, whose value b was just read from the cache or
// fetched, and keeps the instant the key expires (measured from before the PTTL was sent, so
// never later than Redis's). A key gone by then is reported absent.
func (n *Near) learnExpiry(ctx context.Context, full string, b []byte) ([]byte, bool, error) {
	epoch, sent := n.cache.expiry.begin()
	ttl, err := n.rdb.PTTL(ctx, full).Result()
	if err != nil {
		return nil, false, failure(err)
	}
	switch {
	case ttl == -2: // gone (expired or deleted) since the value was fetched
		n.cache.drop(full)
		return nil, false, nil
	case ttl < 0: // -1: no expiry
		n.cache.expiry.store(full, noExpiry, epoch)
	default:
		n.cache.expiry.store(full, sent+int64(ttl), epoch)
	}
	return b, true, nil
}

// failure codes a read's error. A socket timeout once the ctx deadline has passed (go-redis with
// ContextTimeoutEnabled reports the deadline's expiry as an I/O timeout, not as a context error)
// is made STORE_TIMEOUT by the timeout middleware around fetch (Near.read).
func failure(err error) error {
	var rerr redis.Error
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return ops.Failure(ops.KVGet, ops.ErrCanceled, err)
	case errors.As(err, &rerr):
		return ops.Failure(ops.KVGet, ops.ErrFailed, err)
	}
	return ops.Failure(ops.KVGet, ops.ErrUnavailable, err)
}

// Stats returns the counts so far (zero when Off).
func (n *Near) Stats() Stats {
	if n.cache == nil {
		return Stats{}
	}
	s := n.cache.Stats()
	return Stats{Hits: s.Hits, Misses: s.Misses, Invalidations: n.cache.invalidations.Load(),
		ConnectionLosses: n.cache.losses.Load(), Evicted: n.cache.evicted.Load(), Entries: s.Entries}
}

// Close drops the cache and closes the near cache's client. It does not close the store.
func (n *Near) Close() error {
	if n.rdb == nil {
		return nil
	}
	n.stopWatch()
	err := n.rdb.Close()
	n.cache.Flush()
	if err != nil && !errors.Is(err, redis.ErrClosed) {
		return ops.NewError(ops.CodeConnectionFailed, "nearcache.close", "closing the near cache's client failed", err)
	}
	return nil
}

// observed is go-redis's LocalCache with counters, the store's signals and the event hook on
// the lookup path and on the paths that remove entries behind the reader's back.
type observed struct {
	*redis.LocalCache
	// store receives the signals: its observers (telemetry, opsprom) see what Stats counts.
	store                          *client.Store
	onEvent                        func(Event)
	onError                        func(error)
	invalidations, losses, evicted atomic.Uint64
	// ns is go-redis's namespace of Redis keys in the cache (redisNamespace); nsWrong is set when
	// a reservation shows another, and drop then flushes.
	ns      string
	nsWrong atomic.Bool
	// expiry holds the cached keys' expiry instants.
	expiry *deadlines
	// writes are the keys not to cache: written by the store now, or last written with an
	// unknown outcome (writes.go).
	writes *writeTable
}

// Reserve is go-redis's claim of a key it is about to fetch: the key's known expiry belongs to
// the value being replaced, so it is forgotten (the first read of the new value learns it).
//
// A key that a write of the store is writing, or whose last write's outcome is unknown, is not
// cached: the reservation is cancelled and go-redis reads Redis without caching (a zero token).
// The check runs after the reservation is in place, so a write that begins after it drops the
// reservation (ownWrites.BeginKVWrite marks, then drops): either way a fetch whose read may
// predate a write of its key never publishes.
func (o *observed) Reserve(cacheKey string, redisKeys []string) (uint64, bool) {
	for _, k := range redisKeys {
		key, ok := strings.CutPrefix(k, o.ns)
		if !ok {
			o.nsWrong.Store(true)
		}
		o.expiry.forget(key)
	}
	token, fetch := o.LocalCache.Reserve(cacheKey, redisKeys)
	if token != 0 && o.written(redisKeys) {
		o.LocalCache.Cancel(cacheKey, token) // wakes its waiters: they reserve again, and read Redis
		return 0, true
	}
	return token, fetch
}

// written reports whether a key of redisKeys (go-redis's namespaced keys) is not to be cached.
func (o *observed) written(redisKeys []string) bool {
	for _, k := range redisKeys {
		key, ok := strings.CutPrefix(k, o.ns)
		if !ok {
			return o.writes.busyAny()
		}
		if o.writes.busy(key) {
			return true
		}
	}
	return false
}

// drop removes the entry of the full key (and its expiry), and any fetch of it in flight, at
// once: for a write of the near cache's own store, before the write is sent, and for an entry
// past its key's expiry. It is not an invalidation from Redis: it is not counted, signalled or
// given to OnEvent.
func (o *observed) drop(key string) {
	if o.nsWrong.Load() {
		o.LocalCache.Flush()
	} else {
		o.LocalCache.DeleteByRedisKey(o.ns + key)
	}
	o.expiry.forget(key)
}

// Get is go-redis's cache lookup, once per read (a read that waits for another reader's fetch
// looks up twice: a miss, then a hit). LocalCache counts it for Stats; the store's observers
// get a hit or miss signal on the reader's goroutine and context, without allocating.
func (o *observed) Get(ctx context.Context, cacheKey string) ([]byte, bool) {
	v, ok := o.LocalCache.Get(ctx, cacheKey)
	kind := ops.SignalNearMiss
	if ok {
		kind = ops.SignalNearHit
	}
	o.store.Signal(ctx, ops.Signal{Kind: kind})
	return v, ok
}

func (o *observed) DeleteByRedisKey(key string) int {
	n := o.LocalCache.DeleteByRedisKey(key)
	o.invalidations.Add(1)
	o.emit(Invalidated, ops.SignalNearInvalidated, n)
	return n
}

func (o *observed) EvictByConn(connID uint64) int {
	n := o.LocalCache.EvictByConn(connID)
	if n > 0 { // a connection's first init also evicts (nothing)
		o.losses.Add(1)
		o.evicted.Add(uint64(n))
		o.emit(ConnectionLost, ops.SignalNearConnectionLost, n)
	}
	return n
}

func (o *observed) Flush() int {
	n := o.LocalCache.Flush()
	o.emit(Flushed, ops.SignalNearFlushed, n)
	return n
}

// emit signals the store's observers first, then calls the hook: a test or program that waits
// on the hook finds the metrics already moved. These run on go-redis's connection reader,
// outside any caller's context, where nobody could recover a panic: a panicking observer is
// reported like a panicking OnEvent (STORE_CALLBACK_PANIC to OnError), and the hook still runs.
func (o *observed) emit(k EventKind, sk ops.SignalKind, n int) {
	if err := ops.Recover("nearcache.observer", func() {
		o.store.Signal(context.Background(), ops.Signal{Kind: sk, N: int64(n)})
	}); err != nil {
		o.report(err)
	}
	if o.onEvent == nil {
		return
	}
	if err := ops.Recover("nearcache.on_event", func() { o.onEvent(Event{Kind: k, Removed: n}) }); err != nil {
		o.report(err)
	}
}

// report gives a background failure to OnError, or logs it on the store's logger. It runs on
// go-redis's connection reader: a logger whose handler panics too is given up on (the panic is
// recovered and dropped; there is nowhere left to report it).
func (o *observed) report(err error) {
	if o.onError != nil {
		err = ops.Recover("nearcache.on_error", func() { o.onError(err) })
		if err == nil {
			return
		}
	}
	_ = ops.Recover("nearcache.log", func() { o.store.Logger().Error("nearcache: a callback failed", "error", err) })
}

// noExpiry is the deadline of a key without a TTL.
const noExpiry = int64(1<<63 - 1)

// deadlines are the instants the cached keys expire, by full key, on a monotonic clock (ns since
// start). A key is absent until the first read of its fetched value learns its PTTL.
type deadlines struct {
	mu    sync.RWMutex
	at    map[string]int64
	epoch uint64 // bumped by every forget: a PTTL answered across a forget is not stored
	max   int    // at this size the map is cleared (entries evicted by LRU leave theirs behind)
	start time.Time
}

// deadlineSlots is the size at which the table of expiry instants is reset: twice MaxEntries,
// without overflowing for a MaxEntries above math.MaxInt/2.
func deadlineSlots(maxEntries int) int {
	if maxEntries > math.MaxInt/2 {
		return math.MaxInt
	}
	return 2 * maxEntries
}

func newDeadlines(max int) *deadlines {
	return &deadlines{at: map[string]int64{}, max: max, start: time.Now()}
}

func (d *deadlines) now() int64 { return int64(time.Since(d.start)) }

func (d *deadlines) lookup(key string) (int64, bool) {
	d.mu.RLock()
	at, ok := d.at[key]
	d.mu.RUnlock()
	return at, ok
}

// begin returns the epoch and the time before a PTTL is sent.
func (d *deadlines) begin() (epoch uint64, now int64) {
	d.mu.RLock()
	epoch = d.epoch
	d.mu.RUnlock()
	return epoch, d.now()
}

// store keeps key's deadline unless a forget ran since begin returned epoch.
func (d *deadlines) store(key string, at int64, epoch uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.epoch != epoch {
		return
	}
	if len(d.at) >= d.max {
		clear(d.at)
	}
	d.at[key] = at
}

func (d *deadlines) forget(key string) {
	d.mu.Lock()
	d.epoch++
	delete(d.at, key)
	d.mu.Unlock()
}
