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
	"github.com/igniter-go/store/events"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/streams"
)

// isNoPerm reports whether err is a coded store error wrapping Redis's NOPERM reply.
func isNoPerm(err error) bool {
	var coded *ops.Error
	var reply redis.Error
	return errors.As(err, &coded) && coded.Code != "" && errors.As(err, &reply) && strings.HasPrefix(reply.Error(), "NOPERM")
}

// TestSecurityACLConfinesTenant: a Redis user created with the rule Store.ACLRule derives for a
// scoped store can use every feature of that store (and of stores scoped from it), and cannot
// read, write, scan or subscribe outside the scope: NOPERM, surfaced as a coded error. Every key
// the store wrote, lease fence keys included, is under the scope's prefix.
func TestSecurityACLConfinesTenant(t *testing.T) {
	// A legacy fence counter the new counter must start from: above Redis's clock in
	// microseconds (the floor of every fence), so the token shows it was read.
	const legacyFence = 4_000_000_000_000_041
	srv := redistest.Start(t)
	admin := srv.Client(t)
	ctx := context.Background()
	build := func(rdb *redis.Client) *client.Store {
		st, err := client.New().WithService("api").AddScope("org").AddScope("team").WithAdapter(client.Redis(rdb)).Build()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	}
	rule := build(admin).MustScope("org", "o1").ACLRule(client.ACLOptions{Patterns: []string{"smoke:*"}})
	t.Logf("ACL SETUSER tenant-o1 on >… %s", strings.Join(rule, " "))
	for _, r := range rule {
		if strings.Contains(r, "o2") || r == "+@all" || r == "allkeys" || r == "allchannels" {
			t.Fatalf("rule %q reaches outside the scope", r)
		}
	}
	// A lease taken by an earlier version left its counter at the legacy key: the new counter
	// starts from it.
	if err := admin.Set(ctx, "{igniter:store:api:org:o1:claim:legacy}:fence", legacyFence, 0).Err(); err != nil {
		t.Fatal(err)
	}
	// Patterns are per store: the team store's pattern needs its own "&" rule.
	teamRule := build(admin).MustScope("org", "o1").MustScope("team", "t1").ACLRule(client.ACLOptions{Patterns: []string{"smoke:*"}})
	rule = append(rule, "&igniter:store:api:org:o1:team:t1:events:smoke:*")
	if !slices.Contains(teamRule, rule[len(rule)-1]) {
		t.Fatalf("the team store's rule %q lacks its pattern", teamRule)
	}
	user := srv.AddUser(t, "tenant-o1", "s3cret", rule...)
	st := build(user)
	o1 := st.MustScope("org", "o1")

	smokeEveryFeature(t, o1)
	smokeEveryFeature(t, o1.MustScope("team", "t1"))
	lease, err := o1.Claim.Acquire(ctx, "legacy", time.Minute, client.AcquireOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if lease.Fence() != legacyFence+1 {
		t.Fatalf("fence after a legacy counter at %d: %d, want %d", legacyFence, lease.Fence(), legacyFence+1)
	}

	keys, err := admin.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, "igniter:store:api:org:o1:") && k != "{igniter:store:api:org:o1:claim:legacy}:fence" {
			t.Errorf("the tenant's store wrote %q, outside its prefix", k)
		}
	}

	// Outside the scope: through a store scoped to another tenant, and raw.
	o2 := st.MustScope("org", "o2")
	_, err = o2.KV.Get(ctx, "k", new(any))
	if !isNoPerm(err) {
		t.Errorf("another tenant's kv.get: %v, want a coded error wrapping NOPERM", err)
	}
	if err := o2.KV.Set(ctx, "k", 1, 0); !isNoPerm(err) {
		t.Errorf("another tenant's kv.set: %v", err)
	}
	for _, ev := range []string{"a:b", "a:*"} {
		if _, err := o2.Events.Subscribe(ctx, ev, func(context.Context, events.Message) error { return nil }); !isNoPerm(err) {
			t.Errorf("another tenant's events.subscribe %s: %v", ev, err)
		}
	}
	if _, err := o1.Events.Subscribe(ctx, "other:*", func(context.Context, events.Message) error { return nil }); !isNoPerm(err) {
		t.Errorf("a pattern the rule does not name: %v", err)
	}
	if err := o2.Events.Publish(ctx, "a:b", 1); !isNoPerm(err) {
		t.Errorf("another tenant's events.publish: %v", err)
	}
	if _, err := o2.Streams.Append(ctx, "s", 1, streams.AppendOptions{}); !isNoPerm(err) {
		t.Errorf("another tenant's stream.append: %v", err)
	}
	if _, err := st.KV.Get(ctx, "k", new(any)); !isNoPerm(err) {
		t.Errorf("the unscoped store's kv.get: %v", err)
	}
	if _, err := o1.Dev.Scan(ctx, "*", client.ScanOptions{}); !isNoPerm(err) {
		t.Errorf("dev.scan (SCAN cannot be confined, so the rule leaves it out): %v", err)
	}
	for _, cmd := range [][]any{
		{"GET", "igniter:store:api:org:o2:kv:k"},
		{"SET", "igniter:store:api:org:o2:kv:k", "1"},
		{"SET", "other", "1"},
		{"SCAN", "0"},
		{"KEYS", "*"},
		{"FLUSHALL"},
		{"CONFIG", "GET", "*"},
		{"EVAL", "return redis.call('GET', KEYS[1])", "1", "igniter:store:api:org:o2:kv:k"},
		{"EVAL", "return redis.call('GET', 'igniter:store:api:org:o2:kv:k')", "0"},
		{"PUBLISH", "igniter:store:api:org:o2:events:a:b", "x"},
		{"SET", "{igniter:store:api:org:o1:claim:legacy}:fence", "1"},
	} {
		// A script's own commands are refused with "ERR … can't access", the others with NOPERM.
		if err := user.Do(ctx, cmd...).Err(); err == nil || !strings.Contains(err.Error(), "NOPERM") && !strings.Contains(err.Error(), "can't access") {
			t.Errorf("%v as the tenant: %v, want NOPERM", cmd, err)
		}
	}
	ps := user.Subscribe(ctx)
	defer ps.Close()
	for _, ch := range []string{"igniter:store:api:org:o2:events:a:b", "igniter:store:api:org:*"} {
		var err error
		if strings.Contains(ch, "*") {
			err = ps.PSubscribe(ctx, ch)
		} else {
			err = ps.Subscribe(ctx, ch)
		}
		if err == nil {
			_, err = ps.Receive(ctx)
		}
		if err == nil || !strings.Contains(err.Error(), "NOPERM") {
			t.Errorf("subscribe %s as the tenant: %v, want NOPERM", ch, err)
		}
	}
}
