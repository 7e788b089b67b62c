package client_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
)

// realStore starts a redis-server and returns a store on it (service "api") and a raw client.
func realStore(t *testing.T) (*client.Store, *redis.Client, *redistest.Server) {
	t.Helper()
	srv := redistest.Start(t)
	st, err := client.New().WithService("api").WithAdapter(client.Redis(srv.Client(t))).Build()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	_, _ = st.KV.Exists(context.Background(), "warm") // connection handshake outside the monitored part
	return st, srv.Client(t), srv
}

// opCommands drops the commands a client sends on its own (handshake, MULTI/EXEC).
func opCommands(cmds [][]string) [][]string {
	var out [][]string
	for _, c := range cmds {
		if !redistest.Ignored(c) {
			out = append(out, c)
		}
	}
	return out
}

func TestInvalidInputNeverReachesRedis(t *testing.T) {
	st, raw, srv := realStore(t)
	ctx := context.Background()
	stop := srv.Monitor(t)
	for _, tc := range []struct {
		name string
		err  error
		code ops.Code
	}{
		{"kv.set negative ttl", st.KV.Set(ctx, "k", 1, -time.Second), ops.CodeTTLInvalid},
		{"kv.expire negative ttl", st.KV.Expire(ctx, "k", -1), ops.CodeTTLInvalid},
		{"kv.touch negative ttl", st.KV.Touch(ctx, "k", -time.Hour), ops.CodeTTLInvalid},
		{"counter.expire negative ttl", st.Counter.Expire(ctx, "c", -time.Second), ops.CodeTTLInvalid},
		{"claim.once negative ttl", second(st.Claim.Once(ctx, "c", "w", -time.Second)), ops.CodeTTLInvalid},
		{"batch.set one negative ttl", st.Batch.Set(ctx, client.BatchEntry{Key: "a", Value: 1}, client.BatchEntry{Key: "b", Value: 2, TTL: -1}), ops.CodeTTLInvalid},
		{"kv.set unserialisable", st.KV.Set(ctx, "k", make(chan int), 0), ops.CodeSerializationFailed},
		{"batch.set one unserialisable", st.Batch.Set(ctx, client.BatchEntry{Key: "a", Value: 1}, client.BatchEntry{Key: "b", Value: func() {}}), ops.CodeSerializationFailed},
		{"batch.set one empty key", st.Batch.Set(ctx, client.BatchEntry{Key: "a", Value: 1}, client.BatchEntry{Key: "", Value: 2}), ops.CodeKeyRequired},
		{"kv.get empty key", second(st.KV.Get(ctx, "", new(any))), ops.CodeKeyRequired},
		{"kv.set empty key", st.KV.Set(ctx, "", 1, 0), ops.CodeKeyRequired},
		{"kv.exists empty key", second(st.KV.Exists(ctx, "")), ops.CodeKeyRequired},
		{"kv.remove empty key", st.KV.Remove(ctx, ""), ops.CodeKeyRequired},
		{"counter.increment empty key", second(st.Counter.Increment(ctx, "")), ops.CodeKeyRequired},
		{"claim.once empty key", second(st.Claim.Once(ctx, "", "w", 0)), ops.CodeKeyRequired},
		{"batch.get empty key", second(st.Batch.Get(ctx, "a", "")), ops.CodeKeyRequired},
		{"dev.scan empty pattern", second(st.Dev.Scan(ctx, "", client.ScanOptions{})), ops.CodeScanPatternRequired},
	} {
		if ops.CodeOf(tc.err) != tc.code || !errors.Is(tc.err, ops.ErrInvalid) {
			t.Errorf("%s: err = %v, want %s (ErrInvalid)", tc.name, tc.err, tc.code)
		}
	}
	if items, err := st.Batch.Get(ctx); items != nil || err != nil {
		t.Errorf("empty batch get: %v %v", items, err)
	}
	if err := st.Batch.Set(ctx); err != nil {
		t.Errorf("empty batch set: %v", err)
	}
	if cmds := opCommands(stop()); len(cmds) != 0 {
		t.Fatalf("invalid input reached Redis: %q", cmds)
	}
	if n := raw.DBSize(ctx).Val(); n != 0 {
		t.Fatalf("%d keys were written", n)
	}
}

func second[T any](_ T, err error) error { return err }

func TestTTLs(t *testing.T) {
	st, raw, srv := realStore(t)
	ctx := context.Background()
	stop := srv.Monitor(t)
	must(t, st.KV.Set(ctx, "sub", "v", 1500*time.Millisecond))
	must(t, st.KV.Set(ctx, "whole", "v", 2*time.Second))
	must(t, st.KV.Set(ctx, "round", "v", time.Millisecond+time.Nanosecond))
	must(t, st.KV.Expire(ctx, "whole", 250*time.Millisecond))
	must(t, st.KV.Set(ctx, "persist", "v", time.Hour))
	must(t, st.KV.Expire(ctx, "persist", 0))
	_, err := st.Claim.Once(ctx, "c", "w", 700*time.Millisecond)
	must(t, err)
	want := [][]string{
		{"set", "igniter:store:api:kv:sub", `"v"`, "px", "1500"},
		{"set", "igniter:store:api:kv:whole", `"v"`, "ex", "2"},
		{"set", "igniter:store:api:kv:round", `"v"`, "px", "2"},
		{"pexpire", "igniter:store:api:kv:whole", "250"},
		{"set", "igniter:store:api:kv:persist", `"v"`, "ex", "3600"},
		{"persist", "igniter:store:api:kv:persist"},
		{"set", "igniter:store:api:claim:c", `"w"`, "px", "700", "nx"},
	}
	got := opCommands(stop())
	if len(got) != len(want) {
		t.Fatalf("commands %q", got)
	}
	for i := range want {
		if !redistest.SameCommand(want[i], got[i]) {
			t.Fatalf("command %d = %q, want %q", i, got[i], want[i])
		}
	}
	if p := raw.PTTL(ctx, "igniter:store:api:kv:sub").Val(); p <= 0 || p > 1500*time.Millisecond {
		t.Fatalf("sub-second ttl: pttl %v", p)
	}
	if p := raw.PTTL(ctx, "igniter:store:api:kv:persist").Val(); p != -1 {
		t.Fatalf("Expire(0) must remove the expiry: pttl %v", p)
	}
}

func TestBatchSetIsAtomic(t *testing.T) {
	st, raw, srv := realStore(t)
	ctx := context.Background()
	must(t, raw.Set(ctx, "igniter:store:api:kv:b", "not a list", 0).Err())
	stop := srv.Monitor(t)
	must(t, st.Batch.Set(ctx, client.BatchEntry{Key: "a", Value: 1}, client.BatchEntry{Key: "b", Value: "x", TTL: time.Minute}))
	cmds := stop()
	var names []string
	for _, c := range cmds {
		if name := strings.ToLower(c[0]); name != "hello" && name != "client" {
			names = append(names, name)
		}
	}
	if !slices.Equal(names, []string{"multi", "mset", "set", "exec"}) {
		t.Fatalf("batch set must run in MULTI/EXEC: %q", cmds)
	}
	items, err := client.BatchGetAs[any](ctx, st.Batch, "a", "b", "zz")
	must(t, err)
	if !items[0].Found || items[0].Value != float64(1) || items[1].Value != "x" || items[2].Found || items[2].Key != "zz" {
		t.Fatalf("items %+v", items)
	}
	typed, err := client.BatchGetAs[int](ctx, st.Batch, "b")
	if ops.CodeOf(err) != ops.CodeDeserializationFailed || typed != nil {
		t.Fatalf("typed batch get of a string into int: %v", err)
	}
}

func TestRedisFailuresAreCodedAndWrapTheCause(t *testing.T) {
	st, raw, srv := realStore(t)
	ctx := context.Background()
	must(t, st.KV.Set(ctx, "views", "lots", 0))
	must(t, raw.Set(ctx, "igniter:store:api:counter:views", "lots", 0).Err())
	_, err := st.Counter.Increment(ctx, "views")
	var reply redis.Error
	if ops.CodeOf(err) != ops.CodeIncrementFailed || !errors.Is(err, ops.ErrFailed) || !errors.As(err, &reply) {
		t.Fatalf("INCR of a non-integer: %v", err)
	}
	var n int
	_, err = st.KV.Get(ctx, "views", &n)
	if ops.CodeOf(err) != ops.CodeDeserializationFailed {
		t.Fatalf("decode of a string into int: %v", err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = st.KV.Exists(canceled, "views")
	if ops.CodeOf(err) != ops.CodeCanceled || !errors.Is(err, ops.ErrCanceled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled ctx: %v", err)
	}
	srv.Kill()
	_, err = st.KV.Exists(ctx, "views")
	if ops.CodeOf(err) != ops.CodeConnectionFailed || !errors.Is(err, ops.ErrUnavailable) {
		t.Fatalf("server down: %v", err)
	}
}

func TestClose(t *testing.T) {
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, ContextTimeoutEnabled: true})
	st, err := client.New().WithService("api").WithAdapter(client.Redis(rdb, client.OwnClient())).Build()
	must(t, err)
	scoped := st.MustScope("org", "1")
	must(t, st.Close())
	must(t, scoped.Close()) // idempotent, shared
	err = scoped.KV.Set(context.Background(), "k", 1, 0)
	if ops.CodeOf(err) != ops.CodeClosed || !errors.Is(err, ops.ErrRejected) {
		t.Fatalf("after Close: %v", err)
	}
	if err := rdb.Ping(context.Background()).Err(); !errors.Is(err, redis.ErrClosed) {
		t.Fatalf("OwnClient: the client must be closed: %v", err)
	}
}

func TestScanNeverLeavesItsTenant(t *testing.T) {
	st, raw, _ := realStore(t)
	ctx := context.Background()
	t1 := st.MustScope("tenant", "t1")
	t2 := st.MustScope("tenant", "t2")
	t1child := t1.MustScope("team", "x")
	t10 := st.MustScope("tenant", "t10")
	stores := map[string]*client.Store{"root": st, "t1": t1, "t2": t2, "t1child": t1child, "t10": t10}
	want := map[string][]string{}
	for name, s := range stores {
		for _, k := range []string{"a", "b:kv:c", "*", "[x]", name + ":only"} {
			must(t, s.KV.Set(ctx, k, name, 0))
			want[name] = append(want[name], k)
		}
		_, err := s.Counter.Increment(ctx, "a") // other namespaces never show up in a kv scan
		must(t, err)
	}
	// Keys that try to look like another tenant's, written raw.
	must(t, raw.Set(ctx, "igniter:store:api:tenant:t1*:kv:evil", "1", 0).Err())
	for name, s := range stores {
		var got []string
		for k, err := range s.Dev.Keys(ctx, "*", 3) {
			must(t, err)
			got = append(got, k)
		}
		slices.Sort(got)
		got = slices.Compact(got) // Keys passes on SCAN's repeats
		slices.Sort(want[name])
		if !slices.Equal(got, want[name]) {
			t.Errorf("%s scanned %q, want %q", name, got, want[name])
		}
		for _, k := range got {
			var owner string
			if _, err := s.KV.Get(ctx, k, &owner); err != nil || owner != name {
				t.Errorf("%s: key %q belongs to %q (%v)", name, k, owner, err)
			}
		}
	}
	for _, id := range []string{"*", "t?", "t[12]", `t\1`, "t1:kv", "t 1"} {
		if _, err := st.Scope("tenant", id); ops.CodeOf(err) != ops.CodeScopeInvalid {
			t.Errorf("id %q must be rejected, got %v", id, err)
		}
	}
	page, err := t1.Dev.Scan(ctx, "a*", client.ScanOptions{Count: 1000})
	must(t, err)
	if page.Cursor != "0" || !slices.Equal(page.Keys, []string{"a"}) {
		t.Fatalf("one page: %+v", page)
	}
	_, err = t1.Dev.Scan(ctx, "*", client.ScanOptions{Cursor: "not-a-cursor"})
	if ops.CodeOf(err) != ops.CodeScanCursorInvalid || !errors.Is(err, ops.ErrInvalid) {
		t.Fatalf("bad cursor: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
