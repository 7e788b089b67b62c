package client_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/storetest"
	"github.com/igniter-go/store/telemetry"
)

// TestLeaseTelemetryCarriesNoSecrets runs every claim and lease operation, lost and conflicting
// ones included, through the telemetry middleware: each is an operation of the chain, and no
// event carries an owner, a token, a key or a scope id.
func TestLeaseTelemetryCarriesNoSecrets(t *testing.T) {
	rec := telemetry.NewRecorder()
	st := storetest.New(t, storetest.WithBuilder(func(b *client.Builder) *client.Builder {
		return b.Use(telemetry.New(rec))
	}))
	tenant := st.MustScope("org", "tenant_secret_42")
	ctx := context.Background()
	const key, owner = "key_secret_7", "owner_secret_9"

	_, _ = tenant.Claim.Once(ctx, key, owner, time.Minute)
	_, _ = tenant.Claim.Release(ctx, key, "owner_secret_other")
	_, _ = tenant.Claim.Release(ctx, key, owner)
	l, err := tenant.Claim.Acquire(ctx, key, time.Minute, client.AcquireOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = tenant.Claim.Acquire(ctx, key, time.Minute, client.AcquireOptions{})
	_ = l.Extend(ctx, time.Minute)
	_ = l.Release(ctx)
	_ = l.Release(ctx) // lost
	_ = l.Extend(ctx, time.Minute)

	names := rec.Names()
	for _, want := range []string{
		"igniter.store.claim.release.success", "igniter.store.claim.release.error",
		"igniter.store.lease.acquire.success", "igniter.store.lease.extend.success",
		"igniter.store.lease.release.success", "igniter.store.lease.release.error", "igniter.store.lease.extend.error",
	} {
		if !slices.Contains(names, want) {
			t.Errorf("no %s event in %v", want, names)
		}
	}
	for _, e := range rec.Events() {
		text := fmt.Sprint(e.Name, e.Attrs)
		for _, secret := range []string{l.Token(), key, owner, "tenant_secret_42", "owner_secret_other"} {
			if strings.Contains(text, secret) {
				t.Errorf("event %s carries %q: %s", e.Name, secret, text)
			}
		}
	}
}
