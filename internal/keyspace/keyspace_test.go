package keyspace_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/igniter-go/store/internal/keyspace"
	"github.com/igniter-go/store/ops"
)

func TestKeysMatchTheOriginalLayout(t *testing.T) {
	base := keyspace.New("api")
	scoped := base.With("organization", "org_1").With("workspace", "ws_2")
	for _, tc := range []struct {
		p       keyspace.Prefix
		ns, key string
		want    string
	}{
		{base, "kv", "user:1", "igniter:store:api:kv:user:1"},
		{scoped, "kv", "user:1", "igniter:store:api:organization:org_1:workspace:ws_2:kv:user:1"},
		{scoped, "counter", "user:1", "igniter:store:api:organization:org_1:workspace:ws_2:counter:user:1"},
		{scoped, "claim", "user:1", "igniter:store:api:organization:org_1:workspace:ws_2:claim:user:1"},
		{scoped, "events", "user:created", "igniter:store:api:organization:org_1:workspace:ws_2:events:user:created"},
		{scoped, "streams", "user:1", "igniter:store:api:organization:org_1:workspace:ws_2:streams:user:1"},
		{scoped, "kv", "user:*", "igniter:store:api:organization:org_1:workspace:ws_2:kv:user:*"},
		{base.With("user", "42"), "kv", "profile", "igniter:store:api:user:42:kv:profile"},
		{base.With("org", "1").With("org", "2"), "kv", "k", "igniter:store:api:org:1:org:2:kv:k"},
	} {
		if got := tc.p.Key(tc.ns, tc.key); got != tc.want {
			t.Errorf("Key(%s,%s) = %s, want %s", tc.ns, tc.key, got, tc.want)
		}
	}
	if scoped.Base() != "igniter:store:api:organization:org_1:workspace:ws_2" || base.Base() != "igniter:store:api" {
		t.Error("Base is wrong")
	}
	if last, ok := scoped.Last(); !ok || last != (keyspace.Scope{Key: "workspace", ID: "ws_2"}) || scoped.Depth() != 2 {
		t.Error("Last/Depth wrong")
	}
	if base.Depth() != 0 {
		t.Error("With changed its receiver")
	}
}

func TestNameRules(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		code ops.Code
		msg  string
	}{
		{"service empty", keyspace.ValidateService(""), ops.CodeServiceRequired, "Service name is required. Call WithService before Build."},
		{"service colon", keyspace.ValidateService("a:b"), ops.CodeServiceInvalid, ""},
		{"service glob", keyspace.ValidateService("a*"), ops.CodeServiceInvalid, ""},
		{"service space", keyspace.ValidateService("my api"), ops.CodeServiceInvalid, ""},
		{"service ok", keyspace.ValidateService("billing-api_v2"), "", ""},
		{"ns empty", keyspace.ValidateNamespace(""), ops.CodeInvalidNamespace, "Namespace must be a non-empty string"},
		{"ns dot", keyspace.ValidateNamespace("a.b"), ops.CodeInvalidNamespace, `Namespace "a.b" cannot contain dots (.). Use kebab-case for multi-word names.`},
		{"ns colon", keyspace.ValidateNamespace("a:b"), ops.CodeInvalidNamespace, `Namespace "a:b" cannot contain colons (:). The colon is added automatically between namespace and event name.`},
		{"ns reserved", keyspace.ValidateNamespace("Igniter-x"), ops.CodeReservedNamespace, `Namespace "Igniter-x" is reserved for internal Igniter.js use. Please choose a different namespace.`},
		{"ns reserved __", keyspace.ValidateNamespace("___x"), ops.CodeReservedNamespace, ""},
		{"ns ign ok", keyspace.ValidateNamespace("ignite"), "", ""},
		{"scope key empty", keyspace.ValidateScopeKey(""), ops.CodeScopeKeyRequired, "Scope key is required"},
		{"scope key namespace", keyspace.ValidateScopeKey("kv"), ops.CodeScopeInvalid, ""},
		{"scope key streams", keyspace.ValidateScopeKey("streams"), ops.CodeScopeInvalid, ""},
		{"scope key glob", keyspace.ValidateScopeKey("org*"), ops.CodeScopeInvalid, ""},
		{"scope key space", keyspace.ValidateScopeKey("my org"), ops.CodeScopeInvalid, ""},
		{"scope key ok", keyspace.ValidateScopeKey("organization"), "", ""},
		{"id empty", keyspace.ValidateScopeID("org", ""), ops.CodeScopeIdentifierRequired, "Scope identifier is required"},
		{"id colon", keyspace.ValidateScopeID("org", "a:kv:x"), ops.CodeScopeInvalid, ""},
		{"id star", keyspace.ValidateScopeID("org", "*"), ops.CodeScopeInvalid, ""},
		{"id bracket", keyspace.ValidateScopeID("org", "[a-z]"), ops.CodeScopeInvalid, ""},
		{"id backslash", keyspace.ValidateScopeID("org", `a\b`), ops.CodeScopeInvalid, ""},
		{"id newline", keyspace.ValidateScopeID("org", "a\nb"), ops.CodeScopeInvalid, ""},
		{"id invalid utf8", keyspace.ValidateScopeID("org", "a\xffb"), ops.CodeScopeInvalid, ""},
		{"id uuid", keyspace.ValidateScopeID("org", "3f1c2a9e-8b7d-4c1e-9f2a-1b2c3d4e5f60"), "", ""},
		{"id number", keyspace.ValidateScopeID("org", "0"), "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if ops.CodeOf(tc.err) != tc.code {
				t.Fatalf("code = %q, want %q (%v)", ops.CodeOf(tc.err), tc.code, tc.err)
			}
			var e *ops.Error
			if tc.msg != "" && (!asError(tc.err, &e) || e.Message != tc.msg) {
				t.Fatalf("message = %q, want %q", e.Message, tc.msg)
			}
		})
	}
}

func TestScopeIDNeverInErrorDetails(t *testing.T) {
	err := keyspace.ValidateScopeID("org", "secret-tenant:x")
	var e *ops.Error
	asError(err, &e)
	if strings.Contains(e.Message, "secret-tenant") || strings.Contains(fmtDetails(e.Details), "secret-tenant") {
		t.Fatalf("scope id leaked into the error: %v %v", e.Message, e.Details)
	}
}

func TestParseIsTheInverseOfKey(t *testing.T) {
	p := keyspace.New("api").With("org", "kv").With("workspace", "counter")
	key := p.Key("kv", "a:kv:b")
	got, ok := keyspace.Parse(key)
	want := keyspace.Parsed{Service: "api", Chain: []keyspace.Scope{{"org", "kv"}, {"workspace", "counter"}}, Namespace: "kv", Key: "a:kv:b"}
	if !ok || !reflect.DeepEqual(got, want) {
		t.Fatalf("Parse(%s) = %+v, %v", key, got, ok)
	}
}

func BenchmarkScopedKey(b *testing.B) {
	p := keyspace.New("api").With("organization", "org_1").With("workspace", "ws_2")
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Key(keyspace.NamespaceKV, "user:1")
	}
}
