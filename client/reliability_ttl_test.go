package client_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/ops"
)

// TestReliabilityTTLOverflow: a TTL so large that rounding it up to whole milliseconds would
// wrap negative is STORE_TTL_INVALID for every op that takes a TTL, and nothing reaches Redis:
// before the fix, EXPIRE/TOUCH sent a negative PEXPIRE (which deletes the key) and SET stored
// the value without expiry.
func TestReliabilityTTLOverflow(t *testing.T) {
	st, raw, srv := realStore(t)
	ctx := context.Background()
	huge := time.Duration(math.MaxInt64)
	keys := map[string]string{
		"igniter:store:api:kv:k":      `"v"`,
		"igniter:store:api:counter:c": "1",
	}
	for k, v := range keys {
		if err := raw.Set(ctx, k, v, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	lease, err := st.Claim.Acquire(ctx, "held", time.Minute, client.AcquireOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stop := srv.Monitor(t)
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"kv.set", st.KV.Set(ctx, "k", "other", huge)},
		{"kv.expire", st.KV.Expire(ctx, "k", huge)},
		{"kv.touch", st.KV.Touch(ctx, "k", huge)},
		{"counter.expire", st.Counter.Expire(ctx, "c", huge)},
		{"batch.set", st.Batch.Set(ctx, client.BatchEntry{Key: "k", Value: "other", TTL: huge})},
		{"claim.once", second(st.Claim.Once(ctx, "c1", "w", huge))},
		{"lease.acquire", second(st.Claim.Acquire(ctx, "l1", huge, client.AcquireOptions{}))},
		{"lease.extend", lease.Extend(ctx, huge)},
		{"claim.hold", st.Claim.Hold(ctx, "h1", huge, func(context.Context) error { return nil })},
	} {
		if ops.CodeOf(tc.err) != ops.CodeTTLInvalid {
			t.Errorf("%s with a TTL of %v: err = %v, want %s", tc.name, huge, tc.err, ops.CodeTTLInvalid)
		}
	}
	if cmds := opCommands(stop()); len(cmds) != 0 {
		t.Errorf("an overflowing TTL reached Redis: %q", cmds)
	}
	for k, v := range keys {
		got, err := raw.Get(ctx, k).Result()
		if err != nil || got != v {
			t.Errorf("%s = %q, %v after the rejected calls; want %q untouched", k, got, err, v)
		}
		if ttl := raw.PTTL(ctx, k).Val(); ttl != -1 {
			t.Errorf("%s has PTTL %v, want none", k, ttl)
		}
	}
	// The largest TTL that is accepted is the largest whole number of milliseconds a Duration holds.
	if err := st.KV.Set(ctx, "max", 1, client.MaxTTL); err != nil {
		t.Fatalf("kv.set with MaxTTL: %v", err)
	}
	if ttl := raw.PTTL(ctx, "igniter:store:api:kv:max").Val(); ttl < client.MaxTTL-time.Hour {
		t.Fatalf("PTTL after a MaxTTL set = %v", ttl)
	}
}
