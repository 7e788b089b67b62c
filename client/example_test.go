package client_test

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/storetest"
)

// open returns a store on an in-process miniredis; the examples run without a Redis server.
func open() *storetest.Store {
	st, err := storetest.Open()
	if err != nil {
		panic(err)
	}
	return st
}

type user struct {
	Name string `json:"name"`
}

func ExampleKV() {
	st := open()
	defer st.Close()
	ctx := context.Background()

	if err := st.KV.Set(ctx, "user:1", user{Name: "Ada"}, time.Hour); err != nil {
		panic(err)
	}
	u, found, err := client.GetAs[user](ctx, st.KV, "user:1")
	fmt.Println(u.Name, found, err)

	raw, _ := st.Redis.Get("igniter:store:test:kv:user:1") // the original's key and bytes
	fmt.Println(raw)

	_, found, _ = client.GetAs[user](ctx, st.KV, "user:2")
	fmt.Println(found)
	// Output:
	// Ada true <nil>
	// {"name":"Ada"}
	// false
}

func ExampleCounter() {
	st := open()
	defer st.Close()
	ctx := context.Background()

	n, _ := st.Counter.Increment(ctx, "logins")
	n, _ = st.Counter.IncrementBy(ctx, "logins", 10)
	fmt.Println(n)
	n, _ = st.Counter.Decrement(ctx, "logins")
	fmt.Println(n)
	fmt.Println(st.Counter.Expire(ctx, "logins", time.Minute))
	// Output:
	// 11
	// 10
	// <nil>
}

func ExampleStore_Scope() {
	st := open()
	defer st.Close()
	ctx := context.Background()

	acme := st.MustScope("org", "acme")
	globex := st.MustScope("org", "globex")
	_ = acme.KV.Set(ctx, "plan", "pro", 0)
	_ = globex.KV.Set(ctx, "plan", "free", 0)

	plan, _, _ := client.GetAs[string](ctx, acme.KV, "plan")
	fmt.Println(acme.Prefix(), plan)
	plan, _, _ = client.GetAs[string](ctx, globex.KV, "plan")
	fmt.Println(globex.Prefix(), plan)

	_, err := st.Scope("org", "a:b") // ids that would make keys ambiguous are refused
	fmt.Println(err != nil)
	// Output:
	// igniter:store:test:org:acme pro
	// igniter:store:test:org:globex free
	// true
}

func ExampleBatch() {
	st := open()
	defer st.Close()
	ctx := context.Background()

	err := st.Batch.Set(ctx,
		client.BatchEntry{Key: "a", Value: 1},
		client.BatchEntry{Key: "b", Value: 2, TTL: time.Minute},
	)
	fmt.Println(err)
	items, _ := client.BatchGetAs[int](ctx, st.Batch, "a", "b", "missing")
	for _, it := range items {
		fmt.Println(it.Key, it.Value, it.Found)
	}
	// Output:
	// <nil>
	// a 1 true
	// b 2 true
	// missing 0 false
}

func ExampleDev_Keys() {
	st := open()
	defer st.Close()
	ctx := context.Background()

	tenant := st.MustScope("org", "acme")
	for _, k := range []string{"user:1", "user:2", "order:1"} {
		_ = tenant.KV.Set(ctx, k, true, 0)
	}
	_ = st.MustScope("org", "globex").KV.Set(ctx, "user:9", true, 0) // another tenant's

	var keys []string
	for k, err := range tenant.Dev.Keys(ctx, "user:*", 100) {
		if err != nil {
			panic(err)
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	fmt.Println(keys)
	// Output:
	// [user:1 user:2]
}
