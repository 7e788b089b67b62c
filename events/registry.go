package events

import (
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/igniter-go/store/middleware/schema"
	"github.com/igniter-go/store/ops"
)

// Namespace is a set of event definitions under one name (the original's
// IgniterStoreEvents.create(namespace)). Events and groups are added to it, usually by
// package-level [Define] calls, and the namespace is then registered on a store builder with
// client's AddEvents, which takes a snapshot: definitions added after AddEvents do not reach
// that builder.
//
// Unlike the original's immutable builder, a Namespace is a registry filled in place (as a
// flag.FlagSet is), which is what lets typed handles be package-level variables. It is safe for
// concurrent use. A definition error (invalid or reserved name, duplicate) does not panic: the
// first one is kept, returned by [Namespace.Err] and by AddEvents, and the failing handle's
// Publish and Subscribe return it.
type Namespace struct {
	name string

	mu      sync.Mutex
	err     error
	entries map[string]bool            // top-level names: true for a group, false for an event
	groups  map[string]map[string]bool // group name → its event names
	schemas map[string]schema.Schema   // full event string → schema (nil: no validation)
}

// NewNamespace returns an empty namespace. An invalid name is recorded as the namespace's error.
func NewNamespace(name string) *Namespace {
	return &Namespace{name: name, err: ValidateName(name), entries: map[string]bool{},
		groups: map[string]map[string]bool{}, schemas: map[string]schema.Schema{}}
}

// Name returns the namespace name.
func (n *Namespace) Name() string { return n.name }

// Err returns the first definition error, or nil.
func (n *Namespace) Err() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.err
}

// Event defines the event name in the namespace with a schema (nil: not validated) and returns
// its full event string ("<namespace>:<name>") and the definition error, if any.
func (n *Namespace) Event(name string, s schema.Schema) (string, error) {
	return n.define("", name, s)
}

// Group defines a group: a set of events published as "<namespace>:<group>:<event>". Groups do
// not nest, as in the original.
func (n *Namespace) Group(name string) *Group {
	g := &Group{ns: n, name: name}
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := validate(name, kindGroup); err != nil {
		g.err = n.record(err)
		return g
	}
	if _, dup := n.entries[name]; dup {
		g.err = n.record(ops.Invalid(ops.CodeDuplicateEvent, "events",
			fmt.Sprintf("Group %q conflicts with an existing event or group. Each name must be unique.", name),
			map[string]any{"name": name}))
		return g
	}
	n.entries[name] = true
	n.groups[name] = map[string]bool{}
	return g
}

// record keeps the first error and returns err. The caller holds n.mu.
func (n *Namespace) record(err error) error {
	if n.err == nil {
		n.err = err
	}
	return err
}

func (n *Namespace) define(group, name string, s schema.Schema) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := validate(name, kindEvent); err != nil {
		return "", n.record(err)
	}
	full := n.name + ":" + name
	if group != "" {
		if n.groups[group][name] {
			return "", n.record(ops.Invalid(ops.CodeDuplicateEvent, "events",
				fmt.Sprintf("Event %q is already defined in group %q. Each event name must be unique within its group.", name, group),
				map[string]any{"name": name, "group": group}))
		}
		n.groups[group][name] = true
		full = n.name + ":" + group + ":" + name
	} else {
		if _, dup := n.entries[name]; dup {
			return "", n.record(ops.Invalid(ops.CodeDuplicateEvent, "events",
				fmt.Sprintf("Event %q is already defined. Each event name must be unique within the same builder.", name),
				map[string]any{"name": name}))
		}
		n.entries[name] = false
	}
	n.schemas[full] = s
	return full, nil
}

// Events returns the full event strings defined so far, sorted.
func (n *Namespace) Events() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Sorted(maps.Keys(n.schemas))
}

// Group is a named set of events inside a [Namespace].
type Group struct {
	ns   *Namespace
	name string
	err  error
}

// Name returns the group name.
func (g *Group) Name() string { return g.name }

// Event defines the event name in the group with a schema (nil: not validated) and returns its
// full event string ("<namespace>:<group>:<name>").
func (g *Group) Event(name string, s schema.Schema) (string, error) {
	if g.err != nil {
		return "", g.err
	}
	return g.ns.define(g.name, name, s)
}

// Parent is where an event is defined: a [*Namespace] or a [*Group].
type Parent interface {
	Event(name string, s schema.Schema) (string, error)
}

// Registry is the immutable set of namespaces a store knows, with exact event lookup. The zero
// value is empty and ready to use.
type Registry struct {
	namespaces []string
	schemas    map[string]schema.Schema
}

// With returns a registry with a snapshot of ns added. A nil namespace is
// STORE_MISSING_NAMESPACE; a namespace with a definition error returns that error; a name
// already registered is STORE_DUPLICATE_NAMESPACE. r is unchanged.
func (r Registry) With(ns *Namespace) (Registry, error) {
	if ns == nil {
		return r, ops.Invalid(ops.CodeMissingNamespace, "addEvents", "Events namespace is required.", nil)
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if ns.err != nil {
		return r, ns.err
	}
	if slices.Contains(r.namespaces, ns.name) {
		return r, ops.Invalid(ops.CodeDuplicateNamespace, "addEvents",
			fmt.Sprintf("Namespace %q is already registered. Each namespace can only be added once.", ns.name),
			map[string]any{"namespace": ns.name})
	}
	out := Registry{namespaces: append(slices.Clip(r.namespaces), ns.name), schemas: maps.Clone(r.schemas)}
	if out.schemas == nil {
		out.schemas = map[string]schema.Schema{}
	}
	maps.Copy(out.schemas, ns.schemas)
	return out, nil
}

// Lookup returns the schema of exactly this event string. ok is false for an unregistered event
// and for a registered event defined without a schema. There is no prefix match: "user:created"
// does not validate "user:created:extra".
func (r Registry) Lookup(event string) (s schema.Schema, ok bool) {
	s = r.schemas[event]
	return s, s != nil
}

// Registered reports whether event is a defined event.
func (r Registry) Registered(event string) bool {
	_, ok := r.schemas[event]
	return ok
}

// Namespaces returns the registered namespace names, in registration order.
func (r Registry) Namespaces() []string { return slices.Clone(r.namespaces) }
