package client_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/storetest"
)

// WatchKVWrites is called with the full key of each kv write, from scoped stores of the same
// Build too, before the write returns, also when the write failed; stop ends the calls.
func TestWatchKVWritesSeesEveryWriteUntilStopped(t *testing.T) {
	st := storetest.New(t, storetest.WithBuilder(func(b *client.Builder) *client.Builder {
		return b.AddScope("tenant")
	}))
	ctx := context.Background()
	var seen []string
	stop := st.WatchKVWrites(func(key string) { seen = append(seen, key) })

	if err := st.KV.Set(ctx, "a", 1, 0); err != nil {
		t.Fatal(err)
	}
	org, err := st.Scope("tenant", "t1")
	if err != nil {
		t.Fatal(err)
	}
	if err := org.KV.Set(ctx, "b", 1, 0); err != nil {
		t.Fatal(err)
	}
	st.Redis.SetError("ERR injected")
	if err := st.KV.Set(ctx, "c", 1, time.Minute); err == nil || errors.Is(err, ops.ErrInvalid) {
		t.Fatalf("Set on a failing server: %v, want a failure from Redis", err)
	}
	st.Redis.SetError("")
	want := []string{"igniter:store:test:kv:a", "igniter:store:test:tenant:t1:kv:b", "igniter:store:test:kv:c"}
	if !slices.Equal(seen, want) {
		t.Fatalf("watched %q, want %q", seen, want)
	}

	stop()
	if err := st.KV.Set(ctx, "d", 1, 0); err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(want) {
		t.Fatalf("watched %q after stop", seen[len(want):])
	}
}
