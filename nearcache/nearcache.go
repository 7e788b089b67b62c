package nearcache

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/codec"
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
	Redis *redis.Options
	// MaxEntries bounds the number of cached values. Default 10,000.
	MaxEntries int
	// MaxMemoryBytes bounds their estimated size. Default 0: bounded by MaxEntries only.
	MaxMemoryBytes int64
	// MaxStaleness is the longest a cached value is served, invalidation or not: the backstop for
	// a lost invalidation. Default 1 minute.
	MaxStaleness time.Duration
	// DrainInterval is how often idle connections are swept for invalidations and for being
	// closed. Default 5ms (go-redis's).
	DrainInterval time.Duration
	// OnEvent is called after each invalidation or eviction is applied (never with a key). It
	// runs on go-redis's connection reader: return quickly. Default: none.
	OnEvent func(Event)
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
	// Invalidations are invalidation messages applied (one per key).
	Invalidations uint64
	// ConnectionLosses are connections lost with entries on them; Evicted those entries.
	ConnectionLosses, Evicted uint64
	// Entries is the number of values cached now.
	Entries int
}

// Near reads a store's kv keys through an in-process cache kept coherent by Redis.
type Near struct {
	store  *client.Store
	prefix string // <store prefix>:kv:
	rdb    *redis.Client
	cache  *observed
}

// New returns a near cache for store's kv namespace. Unless opts.Off it opens its own RESP3
// client (no connection until the first read). Invalid options are STORE_CONFIGURATION_INVALID.
func New(store *client.Store, opts Options) (*Near, error) {
	n := &Near{store: store, prefix: store.Prefix() + ":kv:"}
	if opts.Off {
		return n, nil
	}
	if opts.Redis == nil || opts.Redis.DB != 0 || opts.Redis.CredentialsProvider != nil ||
		opts.Redis.CredentialsProviderContext != nil || opts.Redis.StreamingCredentialsProvider != nil {
		return nil, ops.Invalid(ops.CodeConfigurationInvalid, "nearcache.new",
			"the near cache needs Options.Redis, on DB 0, without a credentials provider", nil)
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
	}), onEvent: opts.OnEvent}
	ro := *opts.Redis
	ro.Protocol = 3
	ro.MaxRetries = -1
	ro.ClientSideCache = n.cache
	ro.ClientSideCacheConfig = nil
	n.rdb = redis.NewClient(&ro)
	return n, nil
}

// Get decodes the value under key (in the store's kv namespace) into dst, as [client.KV.Get]
// does, and reports whether the key exists. A hit costs no network round trip.
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
func (n *Near) GetRaw(ctx context.Context, key string) ([]byte, bool, error) {
	if n.rdb == nil {
		return n.store.KV.GetRaw(ctx, key)
	}
	if key == "" {
		return nil, false, ops.Invalid(ops.CodeKeyRequired, operation, "Key is required", nil)
	}
	b, err := n.rdb.Get(ctx, n.prefix+key).Bytes()
	switch {
	case err == redis.Nil:
		return nil, false, nil
	case err != nil:
		return nil, false, failure(err)
	}
	return b, true, nil
}

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
	err := n.rdb.Close()
	n.cache.Flush()
	if err != nil && !errors.Is(err, redis.ErrClosed) {
		return ops.NewError(ops.CodeConnectionFailed, "nearcache.close", "closing the near cache's client failed", err)
	}
	return nil
}

// observed is go-redis's LocalCache with counters and the event hook on the paths that remove
// entries behind the reader's back.
type observed struct {
	*redis.LocalCache
	onEvent                        func(Event)
	invalidations, losses, evicted atomic.Uint64
}

func (o *observed) DeleteByRedisKey(key string) int {
	n := o.LocalCache.DeleteByRedisKey(key)
	o.invalidations.Add(1)
	o.emit(Invalidated, n)
	return n
}

func (o *observed) EvictByConn(connID uint64) int {
	n := o.LocalCache.EvictByConn(connID)
	if n > 0 { // a connection's first init also evicts (nothing)
		o.losses.Add(1)
		o.evicted.Add(uint64(n))
		o.emit(ConnectionLost, n)
	}
	return n
}

func (o *observed) Flush() int {
	n := o.LocalCache.Flush()
	o.emit(Flushed, n)
	return n
}

func (o *observed) emit(k EventKind, n int) {
	if o.onEvent != nil {
		o.onEvent(Event{Kind: k, Removed: n})
	}
}
