// Package storecore is the small interface between the client's store core and the feature
// packages that stand beside client (streams): run an op through the chain, reject one, build
// a key with the scope prefix, signal observers, log, carry trace context, and reach the
// dedicated connections and loop registry that the core owns. It holds no state.
package storecore
