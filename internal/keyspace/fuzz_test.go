package keyspace_test

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/igniter-go/store/internal/keyspace"
	"github.com/igniter-go/store/ops"
)

func asError(err error, target **ops.Error) bool { return errors.As(err, target) }

func fmtDetails(d map[string]any) string {
	keys := make([]string, 0, len(d))
	for k, v := range d {
		keys = append(keys, fmt.Sprint(k, "=", v))
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

// input decodes a fuzz string into (scope chain, namespace, key): fields separated by '|',
// the first is the namespace index, the last the user key, the ones between scope key/id pairs.
func input(s string) (chain []keyspace.Scope, ns, key string, ok bool) {
	parts := strings.Split(s, "|")
	if len(parts) < 2 || len(parts)%2 != 0 {
		return nil, "", "", false
	}
	ns = keyspace.Namespaces[int(len(parts[0]))%len(keyspace.Namespaces)]
	key = parts[len(parts)-1]
	for i := 1; i+1 < len(parts); i += 2 {
		if keyspace.ValidateScopeKey(parts[i]) != nil || keyspace.ValidateScopeID(parts[i], parts[i+1]) != nil {
			return nil, "", "", false
		}
		chain = append(chain, keyspace.Scope{Key: parts[i], ID: parts[i+1]})
	}
	if key == "" {
		return nil, "", "", false
	}
	return chain, ns, key, true
}

func build(chain []keyspace.Scope, ns, key string) string {
	p := keyspace.New("api")
	for _, s := range chain {
		p = p.With(s.Key, s.ID)
	}
	return p.Key(ns, key)
}

// FuzzKeyInjective finds no two distinct (scope chain, namespace, key) inputs that build one Redis
// key: every valid input parses back to itself, and two inputs with one key are equal.
func FuzzKeyInjective(f *testing.F) {
	for _, seed := range [][2]string{
		{"|org|a|b:kv:x", "|org|a:b|kv:x"},
		{"|org|1|workspace|2|k", "|org|1:workspace:2|k"},
		{"|org|kv|kv|x", "|org|kv|x"},
		{"x|a|b|c", "|a|b|c"},
		{"|organization|org_1|user:*", "|organization|org_1:kv:user|*"},
		{"|o|*|k", "|o|[a]|k"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ca, nsa, ka, oka := input(a)
		cb, nsb, kb, okb := input(b)
		if oka {
			key := build(ca, nsa, ka)
			got, ok := keyspace.Parse(key)
			if !ok || got.Service != "api" || got.Namespace != nsa || got.Key != ka || !sameChain(got.Chain, ca) {
				t.Fatalf("Parse(%q) = %+v, want chain %v ns %s key %q", key, got, ca, nsa, ka)
			}
		}
		if oka && okb && build(ca, nsa, ka) == build(cb, nsb, kb) {
			if nsa != nsb || ka != kb || !sameChain(ca, cb) {
				t.Fatalf("collision: %v/%s/%q and %v/%s/%q both give %q", ca, nsa, ka, cb, nsb, kb, build(ca, nsa, ka))
			}
		}
	})
}

func sameChain(a, b []keyspace.Scope) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}
