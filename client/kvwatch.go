package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/internal/executor"
	"github.com/igniter-go/store/internal/keyspace"
	"github.com/igniter-go/store/ops"
)

// KVWriteWatcher is told of every kv write of a store's core: see [Store.WatchKVWrites]. Its
// methods must be fast and must not panic or call the store.
type KVWriteWatcher interface {
	// BeginKVWrite is called with the full Redis key of each kv key a write touches, before the
	// write is sent to Redis (before the store's middleware runs), on the writer's goroutine.
	BeginKVWrite(key string)
	// EndKVWrite is called once for each BeginKVWrite call, with the same key, once nothing of
	// the write can reach Redis any more: after Redis answered, or the write failed, and every
	// command of it that the store's pipeline still held when its caller left (its ctx ended
	// while the command was queued, waiting for a connection or on the wire) was answered or
	// dropped. That is usually on the writer's goroutine before the write returns, and otherwise
	// later, on another goroutine. err is what became of the write:
	//   - nil: Redis acknowledged it;
	//   - an error wrapping [ErrWriteNotSent]: it never reached Redis (refused before it was sent,
	//     the error then wrapping ops.ErrInvalid too, or dropped unwritten by the pipeline);
	//   - any other error: it may have been applied, even after EndKVWrite (a reply lost, a
	//     deadline passed after the write; STORE_OUTCOME_UNKNOWN when a middleware panicked,
	//     the panic going on after EndKVWrite; an open breaker or a spent retry budget, since an
	//     earlier attempt may have been sent), by as much as the network delays bytes the store
	//     has already written.
	// When a write was attempted more than once (the retry middleware), err is what became of
	// the attempt that ended last, except that an attempt that sent nothing does not hide an
	// earlier one's outcome.
	EndKVWrite(key string, err error)
}

// ErrWriteNotSent is wrapped by the error a [KVWriteWatcher] is given for a write that never
// reached Redis.
var ErrWriteNotSent = errors.New("not sent")

// kvWatcher is one watcher registered with [Store.WatchKVWrites]: a pointer, so unregistering
// finds it by identity whatever the watcher's dynamic type.
type kvWatcher struct{ w KVWriteWatcher }

// kvWatchers are the watchers a core tells of each kv write: a copy-on-write list, so a write
// without watchers costs one atomic load.
type kvWatchers struct {
	list atomic.Pointer[[]*kvWatcher]
}

// WatchKVWrites registers w to be told of every kv write of this store's core (KV.Set,
// SetIfAbsent, Remove, Expire, Touch, Batch.Set; from this store or any store scoped from the same
// Build): BeginKVWrite with each key it touches before the write is sent, EndKVWrite with what
// became of it once nothing of it can reach Redis any more (see [KVWriteWatcher]). A kv write
// whose ctx is already done is refused before anything (STORE_CANCELED, STORE_TIMEOUT) and not
// reported: it sends nothing. A write that began
// before w was registered is not reported to it, neither its beginning nor its end. It is how
// package nearcache stops caching a key while a write of its store to that key is in flight. The
// returned function unregisters w; a write in flight then still ends on w.
func (s *Store) WatchKVWrites(w KVWriteWatcher) (stop func()) {
	x := &kvWatcher{w: w}
	s.core.kvWatch.update(func(l []*kvWatcher) []*kvWatcher { return append(l, x) })
	return func() {
		s.core.kvWatch.update(func(l []*kvWatcher) []*kvWatcher {
			out := l[:0] // l is update's own copy
			for _, y := range l {
				if y != x {
					out = append(out, y)
				}
			}
			return out
		})
	}
}

// ScopeError returns the STORE_SCOPE_REQUIRED error every data operation of this store fails
// with because a Required() scope is not applied, or nil. Packages that read the store's keys
// on a client of their own (nearcache) use it to apply the same scope rules.
func (s *Store) ScopeError() error { return s.scopeErr }

// RedisTarget returns the address and database of the single-node go-redis client the store
// runs on (a *redis.Client given to [Redis], Sentinel's failover client included; its
// Options().Addr and DB), with ok true; ok is false when the store runs on anything else (a
// Cluster or Ring client, a custom UniversalClient, a [HandlerAdapter]). Packages that read the
// store's keys on a client of their own (nearcache) use it to check that they read the same
// keyspace.
func (s *Store) RedisTarget() (addr string, db int, ok bool) {
	c, ok := s.core.adapter.universal().(*redis.Client)
	if !ok || c == nil {
		return "", 0, false
	}
	o := c.Options()
	return o.Addr, o.DB, true
}

// update replaces the list with change of a copy of it (change may modify its argument).
func (w *kvWatchers) update(change func([]*kvWatcher) []*kvWatcher) {
	for {
		old := w.list.Load()
		var cur []*kvWatcher
		if old != nil {
			cur = *old
		}
		next := change(append([]*kvWatcher(nil), cur...))
		if w.list.CompareAndSwap(old, &next) {
			return
		}
	}
}

// isKVWrite reports whether an op of kind is a kv write: what the watchers are told of.
func isKVWrite(kind ops.Kind) bool {
	return !kind.ReadOnly() && kind.Namespace() == keyspace.NamespaceKV
}

// begin tells the watchers that op, a kv write, is about to be sent, and returns the list it told
// (for end: a watcher registered meanwhile gets no end without a beginning); nil when nobody
// watches.
func (w *kvWatchers) begin(op *ops.Op) []*kvWatcher {
	p := w.list.Load()
	if p == nil || len(*p) == 0 {
		return nil
	}
	l := *p
	for _, x := range l {
		if op.Key != "" {
			x.w.BeginKVWrite(op.Key)
		}
		for _, k := range op.Keys {
			x.w.BeginKVWrite(k)
		}
	}
	return l
}

// end tells the watchers of l, which begin told of a write of key and keys, that it ended with
// err.
func (w *kvWatchers) end(l []*kvWatcher, key string, keys []string, err error) {
	for _, x := range l {
		if key != "" {
			x.w.EndKVWrite(key, err)
		}
		for _, k := range keys {
			x.w.EndKVWrite(k, err)
		}
	}
}

// doWatched runs op, a kv write whose beginning the watchers of l were told (kvWatchers.begin),
// through the chain, and has them told it ended (kvWrite) once the chain returned and the
// executor settled every pipelined command of it whose caller left: even after a failure (the
// write may have been applied), and with STORE_OUTCOME_UNKNOWN when a middleware panicked, so a
// watcher never waits for an end that will not come (the panic goes on).
func (s *Store) doWatched(ctx context.Context, op ops.Op, l []*kvWatcher) (ops.Result, error) {
	w := &kvWrite{c: s.core, l: l, op: op}
	returned := false
	defer func() {
		if !returned {
			w.returned(ops.NewError(ops.CodeOutcomeUnknown, op.Kind.Operation(),
				"a middleware panicked during the write; it may have been applied", nil))
		}
	}()
	res, err := s.core.handler(executor.WithSettle(ctx, w), op)
	returned = true
	w.returned(err)
	return res, err
}

// outcome is what became of a kv write, or of one attempt or command of it, for its watchers.
type outcome uint8

const (
	notSent outcome = iota // never reached Redis
	applied                // acknowledged by Redis
	unknown                // may have been applied, perhaps later
)

// outcomeOf is the outcome of a write's attempt that ended with err.
func outcomeOf(err error) outcome {
	switch {
	case err == nil:
		return applied
	case errors.Is(err, ops.ErrInvalid), errors.Is(err, ErrWriteNotSent):
		return notSent
	}
	return unknown
}

// kvWrite follows one watched kv write until nothing of it can reach Redis: its chain's return,
// and what the executor reports of it under the write's ctx (executor.Settle; not of other
// operations run under that ctx, and a kv write run under it has a kvWrite of its own) — each
// executor call that failed, and each pipelined command whose caller left before it had an
// outcome (Left), until that command settled (Settled: answered, failed or dropped unwritten).
// Its watchers are told it ended once the chain returned and no such command is pending, with
// the outcome of what ended last: an acknowledgement came after everything the write sent
// before (Redis serves what it received in order), and an unknown outcome may still land; an
// attempt that sent nothing changes nothing. A successful executor call is not reported: a
// success ends the retry middleware's attempts, so the chain's nil error stands for it, unless
// a command was left, which then ended the attempts (the caller's ctx was done): its settling
// decides.
type kvWrite struct {
	c  *core
	l  []*kvWatcher
	op ops.Op

	mu       sync.Mutex
	last     outcome // of what ended last (notSent: nothing that reached Redis yet)
	lastErr  error   // the error of the last unknown outcome
	left     int     // commands left (executor.Settle.Left)
	pending  int     // commands left and not settled yet
	unpaired int     // lefts whose call's own failure (the caller's ctx error) has not come yet
	chainErr error
	done     bool // the chain returned
}

// note folds the outcome o (with err, for unknown) of something that just ended into w.last.
// The caller holds w.mu.
func (w *kvWrite) note(o outcome, err error) {
	if o == notSent {
		return // sent nothing: whatever ended before stands
	}
	w.last, w.lastErr = o, err
}

// Op is the write (executor.Settle).
func (w *kvWrite) Op() ops.Op { return w.op }

// Failed: an executor call of the write failed with err (executor.Settle).
func (w *kvWrite) Failed(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.unpaired > 0 { // the ctx error of a call that left its command: that command's Settled decides
		w.unpaired--
		return
	}
	w.note(outcomeOf(err), err)
}

// Left: the executor stopped waiting for a pipelined command of the write (executor.Settle).
func (w *kvWrite) Left() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.left++
	w.pending++
	w.unpaired++
}

// Settled: a command Left reported can no longer be written (executor.Settle).
func (w *kvWrite) Settled(sent bool, err error) {
	w.mu.Lock()
	w.pending--
	switch {
	case !sent:
	case err == nil:
		w.note(applied, nil)
	default:
		operation := w.op.Kind.Operation()
		w.note(unknown, ops.NewError(ops.CodeOutcomeUnknown, operation,
			operation+" may or may not have been applied: it was written after its caller left, and not acknowledged", err))
	}
	end := w.done && w.pending == 0
	w.mu.Unlock()
	if end {
		// On the executor's goroutine, where no caller can recover a watcher's panic: it is
		// reported on the store's logger.
		if err := ops.Recover("store.kv_watch", w.end); err != nil {
			w.c.logger.Error("igniter store: a kv write watcher panicked", "error", err)
		}
	}
}

// returned records the chain's error and tells the watchers the write ended, unless a command
// it left is still pending (its Settled then does).
func (w *kvWrite) returned(err error) {
	w.mu.Lock()
	w.done, w.chainErr = true, err
	if w.left == 0 {
		// The chain's error is the last attempt's (or a middleware's, when no attempt was
		// made); a left command instead ended the attempts, and its settling stands for it.
		w.note(outcomeOf(err), err)
	}
	end := w.pending == 0
	w.mu.Unlock()
	if end {
		w.end()
	}
}

// end tells the watchers what became of the write, once the chain returned and nothing is
// pending.
func (w *kvWrite) end() {
	w.mu.Lock()
	var err error
	switch w.last {
	case unknown:
		err = w.lastErr
	case notSent:
		switch {
		case w.chainErr == nil:
			err = ErrWriteNotSent
		case errors.Is(w.chainErr, ErrWriteNotSent):
			err = w.chainErr
		default:
			err = fmt.Errorf("%w: %w", ErrWriteNotSent, w.chainErr)
		}
	}
	w.mu.Unlock()
	w.c.kvWatch.end(w.l, w.op.Key, w.op.Keys, err)
}
