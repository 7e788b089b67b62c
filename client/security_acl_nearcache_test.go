package client_test

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/nearcache"
)

// TestACLRuleCoversTheNearCacheExactlyOnce: a tenant confined by Store.ACLRule (with
// ACLOptions.NearCache) reads through a nearcache.Near logged in as itself: the read succeeds,
// the second one is a hit (CLIENT TRACKING was accepted, so the cache is on), and Redis refuses
// the tenant nothing. Before the fix the rule had no PTTL (every near-cache read failed with
// STORE_GET_FAILED wrapping NOPERM) and no CLIENT TRACKING (go-redis turned the cache off with
// a log line), though the README says the rule holds the commands the store sends.
func TestACLRuleCoversTheNearCacheExactlyOnce(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	root, err := client.New().WithService("api").AddScope("org").WithAdapter(client.Redis(srv.Client(t))).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	rule := root.MustScope("org", "o1").ACLRule(client.ACLOptions{NearCache: true})
	tenant := srv.AddUser(t, "tenant-o1", "s3cret", rule...)
	st, err := client.New().WithService("api").AddScope("org").WithAdapter(client.Redis(tenant)).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	o1 := st.MustScope("org", "o1")
	if err := o1.KV.Set(ctx, "k", 7, 0); err != nil {
		t.Fatal(err)
	}
	if err := srv.Client(t).ACLLogReset(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	n, err := nearcache.New(o1, nearcache.Options{Redis: &redis.Options{Addr: srv.Addr, Username: "tenant-o1", Password: "s3cret",
		ContextTimeoutEnabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	for range 2 {
		var v int
		if found, err := n.Get(ctx, "k", &v); err != nil || !found || v != 7 {
			t.Fatalf("near-cache read as the tenant: %d, %v, %v; want 7", v, found, err)
		}
	}
	if s := n.Stats(); s.Hits == 0 {
		t.Fatalf("no hit on the second read (%+v): the server refused client-side caching", s)
	}
	log, err := srv.Client(t).ACLLog(ctx, 100).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range log {
		if e.Username == "tenant-o1" {
			t.Errorf("Redis refused the tenant %s %s (%s)", e.Reason, e.Object, e.Context)
		}
	}
}
