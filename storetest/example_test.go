package storetest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/storetest"
)

func TestStoretestGivesAWorkingStore(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t, storetest.WithBuilder(func(b *client.Builder) *client.Builder {
		return b.WithService("shop").AddScope("tenant", client.Required())
	}))
	tenant := st.MustScope("tenant", "t1")
	if err := tenant.KV.Set(ctx, "cart", map[string]int{"items": 2}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Redis.Get("igniter:store:shop:tenant:t1:kv:cart"); got != `{"items":2}` {
		t.Fatalf("stored %q", got)
	}
	st.Redis.FastForward(time.Minute)
	if ok, err := tenant.KV.Exists(ctx, "cart"); ok || err != nil {
		t.Fatalf("expired key still exists: %v %v", ok, err)
	}
	if _, err := st.KV.Exists(ctx, "cart"); err == nil {
		t.Fatal("the unscoped store must be refused: tenant is required")
	}
}

type Profile struct {
	Name string `json:"name"`
	Plan string `json:"plan"`
}

func Example() {
	st, err := storetest.Open() // in a test: st := storetest.New(t), closed at cleanup
	if err != nil {
		panic(err)
	}
	defer st.Close()
	ctx := context.Background()

	org := st.MustScope("organization", "org_1")
	_ = org.KV.Set(ctx, "profile", Profile{Name: "Avery", Plan: "pro"}, time.Hour)
	p, found, _ := client.GetAs[Profile](ctx, org.KV, "profile")
	n, _ := org.Counter.Increment(ctx, "logins")
	fmt.Println(found, p.Name, p.Plan, n)
	fmt.Println(st.Redis.Keys())
	// Output:
	// true Avery pro 1
	// [igniter:store:test:organization:org_1:counter:logins igniter:store:test:organization:org_1:kv:profile]
}
