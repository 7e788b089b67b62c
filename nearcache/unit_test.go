package nearcache_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/nearcache"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/storetest"
)

func TestInvalidOptions(t *testing.T) {
	st := storetest.New(t)
	for name, o := range map[string]nearcache.Options{
		"no redis options": {},
		"db 1":             {Redis: &redis.Options{Addr: st.Redis.Addr(), DB: 1}},
	} {
		if _, err := nearcache.New(st.Store, o); !ops.HasCode(err, ops.CodeConfigurationInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	n, err := nearcache.New(st.Store, nearcache.Options{Redis: &redis.Options{Addr: st.Redis.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if _, err := n.Get(t.Context(), "", new(any)); !ops.HasCode(err, ops.CodeKeyRequired) {
		t.Fatalf("empty key: %v", err)
	}
}

// New refuses a store whose keyspace its own client would not read: a store on another DB (each
// read would miss the store's writes for good) or not on a single-node go-redis client. An
// address other than the store's client's is allowed (a proxy may reach the same server) and
// logged at Warn on the store's logger.
func TestNewChecksTheStoresRedisTarget(t *testing.T) {
	mr := miniredis.RunT(t)
	handler := func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{}, nil }
	onHandler, err := client.New().WithService("api").WithAdapter(client.HandlerAdapter(handler)).Build()
	if err != nil {
		t.Fatal(err)
	}
	onDB1 := redis.NewClient(&redis.Options{Addr: mr.Addr(), DB: 1, MaxRetries: -1, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = onDB1.Close() })
	for name, st := range map[string]*client.Store{
		"HandlerAdapter": onHandler,
		"DB 1":           storetest.Connect(t, onDB1, client.New().WithService("api")),
	} {
		_, err := nearcache.New(st, nearcache.Options{Redis: &redis.Options{Addr: mr.Addr()}})
		if !ops.HasCode(err, ops.CodeConfigurationInvalid) {
			t.Errorf("%s: %v, want STORE_CONFIGURATION_INVALID", name, err)
		}
		n, err := nearcache.New(st, nearcache.Options{Off: true})
		if err != nil {
			t.Errorf("%s, Off: %v", name, err)
		} else {
			_ = n.Close()
		}
	}

	var logged bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st := storetest.New(t, storetest.WithBuilder(func(b *client.Builder) *client.Builder { return b.WithLogger(logger) }))
	for addr, warned := range map[string]bool{st.Redis.Addr(): false, "127.0.0.2:1": true} {
		logged.Reset()
		n, err := nearcache.New(st.Store, nearcache.Options{Redis: &redis.Options{Addr: addr}})
		if err != nil {
			t.Fatalf("%s: %v", addr, err)
		}
		_ = n.Close()
		if got := strings.Contains(logged.String(), "not the address of the store's client"); got != warned {
			t.Errorf("near cache on %s: warned %v, want %v (log %q)", addr, got, warned, logged.String())
		}
	}
}
