package cache

import (
	"errors"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/singleflight"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/ops"
)

// ErrNotFound is what a loader returns (or wraps) when the value does not exist. GetOrLoad then
// returns an error that matches it with errors.Is, and remembers the absence for
// [Options.NegativeTTL]. It is a result, not a failure, as sql.ErrNoRows is.
var ErrNotFound = errors.New("cache: not found")

// Cache is the in-process side of cache-aside on one store: its singleflight group, its
// background refreshes and its counters. Use one Cache per store per process; [Cache.For] gives
// a Cache on another (scoped) store that shares them. Close it to wait for background refreshes.
type Cache struct {
	store  *client.Store
	shared *shared
}

type shared struct {
	opts       Options
	group      singleflight.Group
	refreshing sync.Map // refresh keys with a background refresh running
	wg         sync.WaitGroup
	mu         sync.RWMutex // closed vs starting a refresh
	closed     bool
	stats      counters
}

type counters struct {
	hits, misses, stale, early, loads, loadErrors, waits, waitTimeouts atomic.Int64
}

// Stats are cumulative counts of a Cache (shared by [Cache.For] views).
type Stats struct {
	// Hits are reads answered from Redis without waiting (fresh, early-refreshed or stale).
	Hits int64
	// Misses are reads that found nothing usable and waited for a load (their own, a
	// goroutine's of this process, or another instance's).
	Misses int64
	// Stale are hits served after expiry under StaleFor.
	Stale int64
	// EarlyRefreshes are background refreshes XFetch started before expiry in this process;
	// each loads only if it wins the key's claim (another instance may be refreshing it).
	EarlyRefreshes int64
	// Loads are loader calls by this process; LoadErrors those that failed.
	Loads, LoadErrors int64
	// Waits are waits for another instance's load; WaitTimeouts those that gave up and loaded.
	Waits, WaitTimeouts int64
}

// New returns a Cache on store. A nil store, or options the store cannot honour (a duration
// outside the limits documented on [Options]: above [client.MaxTTL], a negative StaleFor or
// NegativeTTL, a LeaseTTL below [MinLeaseTTL], LeaseTTL + WaitTimeout overflowing), is
// STORE_CONFIGURATION_INVALID, returned here before any call to Redis: a Cache that New returns
// has options it can keep.
func New(store *client.Store, opts Options) (*Cache, error) {
	if store == nil {
		return nil, ops.Invalid(ops.CodeConfigurationInvalid, newOperation, "cache.New needs a store", nil)
	}
	opts = opts.withDefaults()
	if err := opts.check(); err != nil {
		return nil, err
	}
	return &Cache{store: store, shared: &shared{opts: opts}}, nil
}

// For returns a Cache on store (typically a scoped store for one tenant) that shares this
// Cache's singleflight group, background refreshes, counters and Close.
func (c *Cache) For(store *client.Store) *Cache { return &Cache{store: store, shared: c.shared} }

// Store returns the store this Cache reads and writes.
func (c *Cache) Store() *client.Store { return c.store }

// Stats returns the counters so far.
func (c *Cache) Stats() Stats {
	s := &c.shared.stats
	return Stats{Hits: s.hits.Load(), Misses: s.misses.Load(), Stale: s.stale.Load(), EarlyRefreshes: s.early.Load(),
		Loads: s.loads.Load(), LoadErrors: s.loadErrors.Load(), Waits: s.waits.Load(), WaitTimeouts: s.waitTimeouts.Load()}
}

// Close stops new background refreshes and waits for the running ones. GetOrLoad keeps working
// (without background refreshes) after Close. Close does not close the store.
func (c *Cache) Close() {
	sh := c.shared
	sh.mu.Lock()
	sh.closed = true
	sh.mu.Unlock()
	sh.wg.Wait()
}

// goBackground runs f on its own goroutine unless the Cache is closed or a refresh of id runs.
// A panic in f (user code it calls: middleware, a value's JSON methods) is recovered and
// reported as STORE_CALLBACK_PANIC, like f's own failures.
func (c *Cache) goBackground(id string, f func()) bool {
	sh := c.shared
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if sh.closed {
		return false
	}
	if _, running := sh.refreshing.LoadOrStore(id, struct{}{}); running {
		return false
	}
	sh.wg.Add(1)
	go func() {
		defer sh.wg.Done()
		defer sh.refreshing.Delete(id)
		if err := ops.Recover(refreshOperation, f); err != nil {
			c.report(err)
		}
	}()
	return true
}

// report hands a background failure to OnRefreshError, or logs it without the key. A panic in
// OnRefreshError is recovered and logged at error level, with the failure it was given.
//
// The logger's handler is user code too: if it panics, the panic is recovered and dropped (there
// is nowhere left to report it), so it cannot kill the process from a cache goroutine.
func (c *Cache) report(err error) {
	f := c.shared.opts.OnRefreshError
	if f == nil {
		_ = ops.Recover(logOperation, func() {
			c.store.Logger().Warn("igniter.store.cache: background refresh failed", "error", err)
		})
		return
	}
	if perr := ops.Recover(onRefreshErrorOperation, func() { f(err) }); perr != nil {
		_ = ops.Recover(logOperation, func() {
			c.store.Logger().Error("igniter.store.cache: OnRefreshError panicked", "error", perr, "refresh_error", err)
		})
	}
}
