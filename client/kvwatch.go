package client

import (
	"sync/atomic"

	"github.com/igniter-go/store/internal/keyspace"
	"github.com/igniter-go/store/ops"
)

// kvWatcher is one function registered with [Store.WatchKVWrites].
type kvWatcher struct{ f func(key string) }

// kvWatchers are the functions a core calls after each kv write: a copy-on-write list, so a
// write without watchers costs one atomic load.
type kvWatchers struct {
	list atomic.Pointer[[]*kvWatcher]
}

// WatchKVWrites registers f to be called with the full Redis key of every kv key that a write of
// this store's core touches (KV.Set, SetIfAbsent, Remove, Expire, Touch, Batch.Set; from this
// store or any store scoped from the same Build), on the writer's goroutine, after Redis answered
// or the write failed, and before the write returns to its caller. It is how package nearcache
// drops its own copy of a key before a write of its store is acknowledged. f must be fast and
// must not panic or call the store. The returned function unregisters f.
func (s *Store) WatchKVWrites(f func(key string)) (stop func()) {
	w := &kvWatcher{f: f}
	s.core.kvWatch.update(func(l []*kvWatcher) []*kvWatcher { return append(l, w) })
	return func() {
		s.core.kvWatch.update(func(l []*kvWatcher) []*kvWatcher {
			out := l[:0] // l is update's own copy
			for _, x := range l {
				if x != w {
					out = append(out, x)
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

// wrote calls the watchers with the keys of op when op is a kv write.
func (w *kvWatchers) wrote(op *ops.Op) {
	l := w.list.Load()
	if l == nil || len(*l) == 0 || op.Kind.ReadOnly() || op.Kind.Namespace() != keyspace.NamespaceKV {
		return
	}
	for _, x := range *l {
		if op.Key != "" {
			x.f(op.Key)
		}
		for _, k := range op.Keys {
			x.f(k)
		}
	}
}
