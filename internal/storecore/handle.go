package storecore

// Handle is a [Store] as a feature package's public type holds it, without the feature package
// exporting a constructor that takes an internal type. The feature declares its type on Handle:
//
//	type Streams storecore.Handle
//
// client makes one for each store by conversion, streams.Streams(storecore.Bind(s)), and the
// feature reads its store back with storecore.Handle(st).Store(). A user can neither name Handle
// nor reach its field, so the feature's public API is its methods only (issue 26, item 6).
type Handle struct{ s Store }

// Bind returns the Handle of s.
func Bind(s Store) Handle { return Handle{s: s} }

// Store returns the store h was bound to; nil for the zero Handle.
func (h Handle) Store() Store { return h.s }
