package client_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
)

// aclSlotMigration opens the migration of slot from the node that owns it to another node
// (CLUSTER SETSLOT … IMPORTING on the target, … MIGRATING on the owner), as redis-cli --cluster
// reshard does before it moves keys: from then on the owner answers a command on a key of the
// slot it does not hold with -ASK <target>, and the client must send ASKING, then the command,
// to the target. It returns plain clients of the owner and the target.
func aclSlotMigration(t *testing.T, c *redistest.Cluster, slot int64) (owner, target *redis.Client) {
	t.Helper()
	ctx := context.Background()
	ids := map[string]string{}
	var ownerAddr string
	for _, n := range c.Nodes {
		rdb := n.Client(t)
		id, err := rdb.Do(ctx, "CLUSTER", "MYID").Text()
		if err != nil {
			t.Fatal(err)
		}
		ids[n.Addr] = id
		slots, err := rdb.ClusterSlots(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range slots {
			if int64(s.Start) <= slot && slot <= int64(s.End) && s.Nodes[0].ID == id {
				ownerAddr = n.Addr
			}
		}
	}
	for _, n := range c.Nodes {
		switch {
		case n.Addr == ownerAddr && owner == nil:
			owner = n.Client(t)
		case n.Addr != ownerAddr && target == nil:
			target = n.Client(t)
		}
	}
	if owner == nil || target == nil {
		t.Fatalf("no owner of slot %d among %v", slot, c.Addrs)
	}
	ownerID, targetID := ids[owner.Options().Addr], ids[target.Options().Addr]
	if err := target.Do(ctx, "CLUSTER", "SETSLOT", slot, "IMPORTING", ownerID).Err(); err != nil {
		t.Fatal(err)
	}
	if err := owner.Do(ctx, "CLUSTER", "SETSLOT", slot, "MIGRATING", targetID).Err(); err != nil {
		t.Fatal(err)
	}
	return owner, target
}

// aclLog returns the ACL LOG entries of user on every node of the cluster: each command, key
// or channel Redis refused to that user since the last reset.
func aclLog(t *testing.T, c *redistest.Cluster, user string) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	for _, n := range c.Nodes {
		entries, err := n.Client(t).ACLLog(ctx, 100).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Username == user {
				out = append(out, fmt.Sprintf("%s: %s %s refused %d time(s) (%s)", n.Addr, e.Reason, e.Object, e.Count, e.Context))
			}
		}
	}
	return out
}

func aclLogReset(t *testing.T, c *redistest.Cluster) {
	t.Helper()
	for _, n := range c.Nodes {
		if err := n.Client(t).ACLLogReset(context.Background()).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestACLRuleOnAClusterUnderReshardingExactlyOnce: a tenant confined by Store.ACLRule uses its
// store on a real 3-primary cluster, every feature, then increments a counter whose slot is
// being migrated (ASK redirect). Redis refuses the tenant nothing: no ACL LOG entry on any node.
// Before the fix the rule lacked ASKING (the INCR under migration failed with NOPERM, while an
// unconfined store's succeeded) and COMMAND (go-redis asks a cluster for its command table
// before routing and caches it only on success, so every lone op cost 3 refused COMMAND calls
// and a log line).
func TestACLRuleOnAClusterUnderReshardingExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	c := redistest.StartCluster(t, 3)
	ctx := context.Background()
	build := func(rdb redis.UniversalClient) *client.Store {
		st, err := client.New().WithService("api").AddScope("org").WithAdapter(client.Redis(rdb)).Build()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	}
	admin := c.Client(t)
	rule := build(admin).MustScope("org", "o1").ACLRule(client.ACLOptions{Patterns: []string{"smoke:*"}})
	tenant := c.AddUser(t, "tenant-o1", "s3cret", rule...)
	o1 := build(tenant).MustScope("org", "o1")
	aclLogReset(t, c)

	// Lone ops: each one is the only command in flight, as a lone caller's are.
	for i := range 20 {
		if err := o1.KV.Set(ctx, fmt.Sprintf("lone:%d", i), i, 0); err != nil {
			t.Fatalf("kv.set as the tenant: %v", err)
		}
	}
	if refused := aclLog(t, c, "tenant-o1"); len(refused) > 0 {
		t.Errorf("Redis refused the tenant's lone ops something:\n%s", strings.Join(refused, "\n"))
	}
	smokeEveryFeature(t, o1)

	const key = "igniter:store:api:org:o1:counter:moving"
	slot, err := admin.ClusterKeySlot(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	owner, target := aclSlotMigration(t, c, slot)
	n, err := o1.Counter.Increment(ctx, "moving")
	if err != nil || n != 1 {
		t.Fatalf("counter.increment during the slot's migration, as the tenant: %d, %v; want 1", n, err)
	}
	// The INCR followed the ASK redirect: the target holds the key, the owner does not.
	if k, err := owner.ClusterCountKeysInSlot(ctx, int(slot)).Result(); err != nil || k != 0 {
		t.Fatalf("the slot's owner holds %d keys (%v), want 0: no ASK redirect happened", k, err)
	}
	conn := target.Conn()
	defer conn.Close()
	if err := conn.Do(ctx, "ASKING").Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := conn.Get(ctx, key).Int64(); err != nil || v != 1 {
		t.Fatalf("the target holds %s = %d (%v), want 1: applied once", key, v, err)
	}
	if refused := aclLog(t, c, "tenant-o1"); len(refused) > 0 {
		t.Errorf("Redis refused the tenant something:\n%s", strings.Join(refused, "\n"))
	}
}
