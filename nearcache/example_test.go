package nearcache_test

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/nearcache"
	"github.com/igniter-go/store/storetest"
)

func Example() {
	st, _ := storetest.Open()
	defer st.Close()
	ctx := context.Background()
	tenant := st.MustScope("organization", "org_1")
	_ = tenant.KV.Set(ctx, "price:sku_1", Price{"sku_1", 1999}, time.Hour)

	// On a real server the near cache serves repeated reads from memory; miniredis has no
	// CLIENT TRACKING, so go-redis reads through instead, and the result is the same.
	near, err := nearcache.New(tenant, nearcache.Options{Redis: &redis.Options{Addr: st.Redis.Addr()}})
	if err != nil {
		panic(err)
	}
	defer near.Close()
	var p Price
	found, err := near.Get(ctx, "price:sku_1", &p)
	fmt.Println(p, found, err)
	// Output: {sku_1 1999} true <nil>
}

func ExampleOptions_off() {
	st, _ := storetest.Open()
	defer st.Close()
	ctx := context.Background()
	_ = st.KV.Set(ctx, "flag", true, 0)
	near, _ := nearcache.New(st.Store, nearcache.Options{Off: true}) // reads go through the store
	defer near.Close()
	var on bool
	found, _ := near.Get(ctx, "flag", &on)
	fmt.Println(on, found, near.Stats().Hits)
	// Output: true true 0
}
