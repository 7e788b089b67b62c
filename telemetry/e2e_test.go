package telemetry_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/storetest"
	"github.com/igniter-go/store/telemetry"
)

// TestKVThroughAStore drives every KV operation of a scoped store on miniredis and checks the
// exact events, as the original's telemetry tests do (spec §14), plus a validation failure.
func TestKVThroughAStore(t *testing.T) {
	ctx := context.Background()
	rec := telemetry.NewRecorder()
	st := storetest.New(t, storetest.WithBuilder(func(b *client.Builder) *client.Builder {
		return b.WithService("test-api").WithTelemetry(rec)
	}))
	org := st.MustScope("organization", "org_123")
	if err := org.KV.Set(ctx, "user:1", map[string]string{"name": "Ada"}, 300*time.Second); err != nil {
		t.Fatal(err)
	}
	var v map[string]string
	if found, err := org.KV.Get(ctx, "user:1", &v); !found || err != nil {
		t.Fatal(found, err)
	}
	if found, err := org.KV.Get(ctx, "user:2", &v); found || err != nil {
		t.Fatal(found, err)
	}
	if ok, err := org.KV.Exists(ctx, "user:2"); ok || err != nil {
		t.Fatal(ok, err)
	}
	if err := org.KV.Expire(ctx, "user:1", 300*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := org.KV.Touch(ctx, "user:1", 300*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := org.KV.Remove(ctx, "user:1"); err != nil {
		t.Fatal(err)
	}
	if err := st.KV.Set(ctx, "", 1, 0); err == nil {
		t.Fatal("an empty key was accepted")
	}

	unscoped := func(ns string) []string { return []string{"ctx.store.service=test-api", "ctx.store.namespace=" + ns} }
	scope := func(ns string) []string {
		return []string{"ctx.store.service=test-api", "ctx.store.namespace=" + ns, "ctx.store.scope_key=organization", "ctx.store.scope_depth=1"}
	}
	d, e := slog.LevelDebug, slog.LevelError
	check(t, rec.Events(),
		want{"igniter.store.kv.set.started", d, cat(scope("kv"), []string{"ctx.kv.ttl=300"})},
		want{"igniter.store.kv.set.success", d, cat(scope("kv"), []string{"ctx.kv.ttl=300"})},
		want{"igniter.store.kv.get.started", d, scope("kv")},
		want{"igniter.store.kv.get.success", d, cat(scope("kv"), []string{"ctx.kv.found=true"})},
		want{"igniter.store.kv.get.started", d, scope("kv")},
		want{"igniter.store.kv.get.success", d, cat(scope("kv"), []string{"ctx.kv.found=false"})},
		want{"igniter.store.kv.exists.started", d, scope("kv")},
		want{"igniter.store.kv.exists.success", d, cat(scope("kv"), []string{"ctx.kv.existed=false"})},
		want{"igniter.store.kv.expire.started", d, cat(scope("kv"), []string{"ctx.kv.ttl=300"})},
		want{"igniter.store.kv.expire.success", d, cat(scope("kv"), []string{"ctx.kv.ttl=300"})},
		want{"igniter.store.kv.touch.started", d, cat(scope("kv"), []string{"ctx.kv.ttl=300"})},
		want{"igniter.store.kv.touch.success", d, cat(scope("kv"), []string{"ctx.kv.ttl=300"})},
		want{"igniter.store.kv.remove.started", d, scope("kv")},
		want{"igniter.store.kv.remove.success", d, scope("kv")},
		want{"igniter.store.kv.set.started", d, unscoped("kv")},
		want{"igniter.store.kv.set.error", e, cat(unscoped("kv"), []string{"ctx.error.operation=kv.set", "ctx.error.code=STORE_KEY_REQUIRED", "ctx.error.message=Key is required"})},
	)
}
