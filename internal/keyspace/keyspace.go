package keyspace

import "strings"

// Scope is one entry of a scope chain.
type Scope struct {
	Key, ID string
}

// Prefix is the immutable, precomputed key prefix of one store: the root, the service and the
// scope chain. Build a key with [Prefix.Key]; derive a scoped prefix with [Prefix.With].
// The zero Prefix is not usable; make one with [New].
type Prefix struct {
	base   string  // igniter:store:<service>{:<k>:<id>}*
	chain  []Scope // outermost first; never written in place
	spaced [5]string
}

// New returns the prefix of an unscoped store. The service must be valid ([ValidateService]).
func New(service string) Prefix {
	return newPrefix(Root+":"+service, nil)
}

func newPrefix(base string, chain []Scope) Prefix {
	p := Prefix{base: base, chain: chain}
	for i, ns := range Namespaces {
		p.spaced[i] = base + ":" + ns + ":"
	}
	return p
}

// With returns the prefix with one more scope. key and id must be valid ([ValidateScopeKey],
// [ValidateScopeID]); p is unchanged.
func (p Prefix) With(key, id string) Prefix {
	chain := make([]Scope, len(p.chain), len(p.chain)+1)
	copy(chain, p.chain)
	chain = append(chain, Scope{Key: key, ID: id})
	return newPrefix(p.base+":"+key+":"+id, chain)
}

// Base returns the prefix without a namespace (the original's getPrefix).
func (p Prefix) Base() string { return p.base }

// Chain returns a copy of the scope chain, outermost first.
func (p Prefix) Chain() []Scope { return append([]Scope(nil), p.chain...) }

// Depth is the number of scopes.
func (p Prefix) Depth() int { return len(p.chain) }

// Last returns the innermost scope; ok is false when unscoped.
func (p Prefix) Last() (s Scope, ok bool) {
	if len(p.chain) == 0 {
		return Scope{}, false
	}
	return p.chain[len(p.chain)-1], true
}

// Namespace returns "<base>:<ns>:" for one of [Namespaces]; it costs no allocation.
func (p Prefix) Namespace(ns string) string {
	switch ns {
	case NamespaceKV:
		return p.spaced[0]
	case NamespaceCounter:
		return p.spaced[1]
	case NamespaceClaim:
		return p.spaced[2]
	case NamespaceEvents:
		return p.spaced[3]
	case NamespaceStreams:
		return p.spaced[4]
	}
	return p.base + ":" + ns + ":"
}

// Key returns the Redis key of key in namespace ns: one allocation.
func (p Prefix) Key(ns, key string) string {
	return p.Namespace(ns) + key
}

// Parsed is a Redis key split back into its parts by [Parse].
type Parsed struct {
	Service   string
	Chain     []Scope
	Namespace string
	Key       string
}

// Parse splits a Redis key built by this package back into its parts. ok is false when the key
// does not have the layout. Parse is the inverse of [Prefix.Key] for valid names, which is what
// makes the mapping injective.
func Parse(redisKey string) (p Parsed, ok bool) {
	rest, found := strings.CutPrefix(redisKey, Root+":")
	if !found {
		return Parsed{}, false
	}
	p.Service, rest, found = strings.Cut(rest, ":")
	if !found || p.Service == "" {
		return Parsed{}, false
	}
	for {
		seg, after, found := strings.Cut(rest, ":")
		if !found {
			return Parsed{}, false
		}
		if IsNamespace(seg) {
			p.Namespace, p.Key = seg, after
			return p, true
		}
		id, after2, found := strings.Cut(after, ":")
		if !found {
			return Parsed{}, false
		}
		p.Chain = append(p.Chain, Scope{Key: seg, ID: id})
		rest = after2
	}
}
