package client_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/middleware/breaker"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/telemetry"
)

func nopExecutor() client.Adapter {
	return client.HandlerAdapter(func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{}, nil })
}

// wantErr checks an error's code, status, message and details.
func wantErr(t *testing.T, err error, code ops.Code, status int, msg string, details map[string]any) {
	t.Helper()
	var e *ops.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not an *ops.Error", err)
	}
	if e.Code != code {
		t.Fatalf("code = %s, want %s (%v)", e.Code, code, err)
	}
	if status != 0 && e.Status != status {
		t.Fatalf("status = %d, want %d", e.Status, status)
	}
	if msg != "" && e.Message != msg {
		t.Fatalf("message = %q\nwant      %q", e.Message, msg)
	}
	if details != nil && !reflect.DeepEqual(e.Details, details) {
		t.Fatalf("details = %#v, want %#v", e.Details, details)
	}
}

func TestBuildErrors(t *testing.T) {
	ok := client.New().WithAdapter(nopExecutor()).WithService("api")
	retrying := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // MaxRetries defaults to 3
	defer retrying.Close()
	for _, tc := range []struct {
		name    string
		b       *client.Builder
		code    ops.Code
		status  int
		msg     string
		details map[string]any
	}{
		{"no adapter", client.New().WithService("api"), ops.CodeAdapterRequired, 500,
			"Store adapter is required. Call WithAdapter before Build.", nil},
		{"adapter checked before service", client.New(), ops.CodeAdapterRequired, 500, "", nil},
		{"no service", client.New().WithAdapter(nopExecutor()), ops.CodeServiceRequired, 500,
			"Service name is required. Call WithService before Build.", nil},
		{"empty service", ok.WithService(""), ops.CodeServiceRequired, 500, "", nil},
		{"service with colon", ok.WithService("a:b"), ops.CodeServiceInvalid, 400, "", nil},
		{"service with glob", ok.WithService("api*"), ops.CodeServiceInvalid, 400, "", nil},
		{"nil executor", ok.WithAdapter(client.HandlerAdapter(nil)), ops.CodeAdapterRequired, 500, "", nil},
		{"go-redis retries on", ok.WithAdapter(client.Redis(retrying)), ops.CodeConfigurationInvalid, 500, "", map[string]any{"maxRetries": 3}},
		{"no stream connections", ok.WithStreamConnections(0), ops.CodeConfigurationInvalid, 500, "", map[string]any{"streamConnections": 0}},
		{"no health check", ok.WithHealthCheck(0), ops.CodeConfigurationInvalid, 500, "", map[string]any{"healthCheck": "0s"}},
		{"duplicate scope", ok.AddScope("organization").AddScope("organization"), ops.CodeDuplicateScope, 400,
			`Scope "organization" is already defined. Each scope key can only be added once.`, map[string]any{"key": "organization"}},
		{"scope key with dot", ok.AddScope("a.b"), ops.CodeInvalidNamespace, 400,
			`Namespace "a.b" cannot contain dots (.). Use kebab-case for multi-word names.`, map[string]any{"namespace": "a.b"}},
		{"scope key with colon", ok.AddScope("a:b"), ops.CodeInvalidNamespace, 400,
			`Namespace "a:b" cannot contain colons (:). The colon is added automatically between namespace and event name.`, nil},
		{"reserved scope key", ok.AddScope("igniter"), ops.CodeReservedNamespace, 400,
			`Namespace "igniter" is reserved for internal Igniter.js use. Please choose a different namespace.`,
			map[string]any{"namespace": "igniter", "reserved": "igniter"}},
		{"reserved __ prefix", ok.AddScope("__internal_x"), ops.CodeReservedNamespace, 400, "", map[string]any{"namespace": "__internal_x", "reserved": "__internal"}},
		{"empty scope key", ok.AddScope(""), ops.CodeInvalidNamespace, 400, "Namespace must be a non-empty string", nil},
		{"namespace as scope key", ok.AddScope("kv"), ops.CodeScopeInvalid, 400, "", nil},
		{"scope key with space", ok.AddScope("my org"), ops.CodeScopeInvalid, 400, "", nil},
		{"first call error wins", ok.AddScope("a.b").WithService(""), ops.CodeInvalidNamespace, 400, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := tc.b.Build()
			if st != nil {
				t.Fatal("a failed Build must return no store")
			}
			wantErr(t, err, tc.code, tc.status, tc.msg, tc.details)
			if !errors.Is(err, ops.ErrInvalid) {
				t.Fatalf("configuration errors are ErrInvalid: %v", err)
			}
		})
	}
}

func TestBuilderIsImmutableAndBranches(t *testing.T) {
	base := client.New().WithAdapter(nopExecutor()).WithService("api")
	withOrg := base.AddScope("organization")
	_ = base.AddScope("organization") // must not conflict: base is unchanged
	withWs := withOrg.AddScope("workspace")
	plain, err := base.Build()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Scope("anything", "1"); err != nil {
		t.Fatalf("no scopes declared on base, any key is accepted: %v", err)
	}
	org, err := withOrg.Build()
	if err != nil {
		t.Fatal(err)
	}
	_, err = org.Scope("workspace", "1")
	wantErr(t, err, ops.CodeInvalidScopeKey, 400, `Scope key "workspace" is not defined. Available scopes: organization`,
		map[string]any{"scopeKey": "workspace", "availableScopes": []string{"organization"}})
	ws, err := withWs.Build()
	if err != nil {
		t.Fatal(err)
	}
	_, err = ws.Scope("team", "1")
	wantErr(t, err, ops.CodeInvalidScopeKey, 400, `Scope key "team" is not defined. Available scopes: organization, workspace`, nil)
	other, _ := base.Build()
	if other == plain {
		t.Fatal("each Build returns a new store")
	}
}

func TestScopeErrors(t *testing.T) {
	st, err := client.New().WithAdapter(nopExecutor()).WithService("api").Build()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, key, id string
		code          ops.Code
		msg           string
	}{
		{"empty key", "", "1", ops.CodeScopeKeyRequired, "Scope key is required"},
		{"empty key and id: key first", "", "", ops.CodeScopeKeyRequired, ""},
		{"empty id", "org", "", ops.CodeScopeIdentifierRequired, "Scope identifier is required"},
		{"id with colon", "org", "a:kv:b", ops.CodeScopeInvalid, ""},
		{"id with star", "org", "*", ops.CodeScopeInvalid, ""},
		{"id with question mark", "org", "a?", ops.CodeScopeInvalid, ""},
		{"id with brackets", "org", "[ab]", ops.CodeScopeInvalid, ""},
		{"id with backslash", "org", `a\*`, ops.CodeScopeInvalid, ""},
		{"id with space", "org", "a b", ops.CodeScopeInvalid, ""},
		{"id with tab", "org", "a\tb", ops.CodeScopeInvalid, ""},
		{"key is a namespace", "streams", "1", ops.CodeScopeInvalid, ""},
		{"key with dot", "a.b", "1", ops.CodeInvalidNamespace, ""},
		{"key with glob", "o*", "1", ops.CodeScopeInvalid, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := st.Scope(tc.key, tc.id)
			if s != nil {
				t.Fatal("a failed Scope must return no store")
			}
			wantErr(t, err, tc.code, 400, tc.msg, nil)
		})
	}
	for _, id := range []string{"org_123", "0", "42", "3f1c2a9e-8b7d-4c1e-9f2a-1b2c3d4e5f60", "ação"} {
		if _, err := st.Scope("org", id); err != nil {
			t.Errorf("id %q must be accepted: %v", id, err)
		}
	}
}

func TestScopedStoresAreIndependent(t *testing.T) {
	var keys []string
	st, _ := client.New().WithService("api").WithAdapter(client.HandlerAdapter(func(_ context.Context, op ops.Op) (ops.Result, error) {
		keys = append(keys, op.Key)
		return ops.Result{}, nil
	})).Build()
	ctx := context.Background()
	org := st.MustScope("organization", "org_1")
	ws := org.MustScope("workspace", "ws_2")
	_ = org.MustScope("organization", "org_2").KV.Set(ctx, "k", 1, 0)
	_ = ws.KV.Set(ctx, "k", 1, 0)
	_ = org.KV.Set(ctx, "k", 1, 0)
	_ = st.KV.Set(ctx, "k", 1, 0)
	want := []string{
		"igniter:store:api:organization:org_1:organization:org_2:kv:k",
		"igniter:store:api:organization:org_1:workspace:ws_2:kv:k",
		"igniter:store:api:organization:org_1:kv:k",
		"igniter:store:api:kv:k",
	}
	if !reflect.DeepEqual(keys, want) {
		t.Fatalf("keys = %q", keys)
	}
	if ws.Prefix() != "igniter:store:api:organization:org_1:workspace:ws_2" {
		t.Fatal(ws.Prefix())
	}
}

func TestRequiredScopeIsEnforcedBeforeAnyCall(t *testing.T) {
	calls, userSaw := 0, 0
	rec := telemetry.NewRecorder()
	user := func(next ops.Handler) ops.Handler {
		return func(ctx context.Context, op ops.Op) (ops.Result, error) {
			userSaw++
			return next(ctx, op)
		}
	}
	st, err := client.New().WithService("api").AddScope("organization", client.Required()).AddScope("workspace").
		Use(user).WithTelemetry(rec).
		WithAdapter(client.HandlerAdapter(func(context.Context, ops.Op) (ops.Result, error) { calls++; return ops.Result{}, nil })).Build()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ws := st.MustScope("workspace", "w1")
	for _, s := range []*client.Store{st, ws} {
		err := s.KV.Set(ctx, "k", 1, 0)
		wantErr(t, err, ops.CodeScopeRequired, 400, `Scope "organization" is required. Use the store returned by Scope("organization", id) for data operations.`, nil)
		_, err = s.Counter.Increment(ctx, "c")
		wantErr(t, err, ops.CodeScopeRequired, 0, "", nil)
		_, err = s.Dev.Scan(ctx, "*", client.ScanOptions{})
		wantErr(t, err, ops.CodeScopeRequired, 0, "", nil)
	}
	if calls != 0 {
		t.Fatalf("the executor ran %d times for a store missing a required scope", calls)
	}
	errorsSeen := 0
	for _, n := range rec.Names() {
		if strings.HasSuffix(n, ".error") {
			errorsSeen++
		}
	}
	if errorsSeen != 6 || userSaw != 0 {
		t.Fatalf("telemetry must record the 6 rejected ops (got %d) and user middleware see none (saw %d): %v", errorsSeen, userSaw, rec.Names())
	}
	if err := st.MustScope("organization", "o1").MustScope("workspace", "w1").KV.Set(ctx, "k", 1, 0); err != nil || calls != 1 {
		t.Fatalf("a fully scoped store must work: %v (calls %d)", err, calls)
	}
}

func TestAnOpenBreakerNeverMasksABadInputsOwnCode(t *testing.T) {
	down := func(_ context.Context, op ops.Op) (ops.Result, error) {
		return ops.Result{}, ops.Failure(op.Kind, ops.ErrUnavailable, errors.New("connection refused"))
	}
	st, err := client.New().WithService("api").WithoutRetry().WithBreaker(breaker.Settings{Failures: 1, Timeout: time.Hour}).
		WithAdapter(client.HandlerAdapter(down)).Build()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_ = st.KV.Set(ctx, "k", 1, 0) // opens the breaker
	if err := st.KV.Set(ctx, "k", 1, 0); !errors.Is(err, breaker.ErrOpen) {
		t.Fatalf("breaker must be open: %v", err)
	}
	wantErr(t, st.KV.Set(ctx, "", 1, 0), ops.CodeKeyRequired, 400, "", nil)
	wantErr(t, st.KV.Set(ctx, "k", 1, -time.Second), ops.CodeTTLInvalid, 400, "", nil)
	_ = st.Close()
	wantErr(t, st.KV.Set(ctx, "k", 1, 0), ops.CodeClosed, 0, "", nil)
}

func TestTelemetryOptionsReplaceRatherThanStack(t *testing.T) {
	first, second := telemetry.NewRecorder(), telemetry.NewRecorder()
	b := client.New().WithService("api").WithAdapter(nopExecutor()).WithTelemetry(first)
	st, err := b.WithTelemetry(second).WithTelemetry(second).Build()
	if err != nil {
		t.Fatal(err)
	}
	_ = st.KV.Set(context.Background(), "k", 1, 0)
	if got := second.Names(); !reflect.DeepEqual(got, []string{"igniter.store.kv.set.started", "igniter.store.kv.set.success"}) || len(first.Names()) != 0 {
		t.Fatalf("second %v, first %v", got, first.Names())
	}
	// The builder that set the first sink still sends to it: builders branch.
	st2, _ := b.Build()
	_ = st2.KV.Set(context.Background(), "k", 1, 0)
	if len(first.Names()) != 2 {
		t.Fatalf("branch lost its sink: %v", first.Names())
	}
}
