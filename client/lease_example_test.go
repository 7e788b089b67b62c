package client_test

import (
	"context"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/ops"
)

func ExampleClaim_Acquire() {
	mr, _ := miniredis.Run() // miniredis runs the lease scripts in its Lua interpreter
	defer mr.Close()
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1, ContextTimeoutEnabled: true})
	st, err := client.New().WithService("api").WithAdapter(client.Redis(rdb, client.OwnClient())).Build()
	if err != nil {
		panic(err)
	}
	defer st.Close()
	ctx := context.Background()
	// A fence is at least Redis's clock in microseconds (TIME), so it keeps growing even if
	// Redis loses its data; miniredis's clock is set here to make the output stable.
	mr.SetTime(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))

	lease, err := st.Claim.Acquire(ctx, "report:daily", 30*time.Second, client.AcquireOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Println("fence", lease.Fence())

	_, err = st.Claim.Acquire(ctx, "report:daily", 30*time.Second, client.AcquireOptions{})
	fmt.Println(ops.CodeOf(err))

	fmt.Println(lease.Extend(ctx, time.Minute), lease.Release(ctx))
	fmt.Println(ops.CodeOf(lease.Release(ctx)))

	// Hold: the watchdog extends the lease while fn runs; fn's ctx ends if the lease is lost.
	err = st.Claim.Hold(ctx, "report:daily", 30*time.Second, func(ctx context.Context) error {
		fmt.Println("generating the report")
		return nil
	})
	fmt.Println(err)
	// Output:
	// fence 1735689600000000
	// STORE_LEASE_NOT_ACQUIRED
	// <nil> <nil>
	// STORE_LEASE_LOST
	// generating the report
	// <nil>
}

func ExampleClaim_Release() {
	mr, _ := miniredis.Run()
	defer mr.Close()
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1, ContextTimeoutEnabled: true})
	st, err := client.New().WithService("api").WithAdapter(client.Redis(rdb, client.OwnClient())).Build()
	if err != nil {
		panic(err)
	}
	defer st.Close()
	ctx := context.Background()

	ok, _ := st.Claim.Once(ctx, "jobs:cleanup", "worker-1", time.Minute)
	raw, _ := mr.Get("igniter:store:api:claim:jobs:cleanup")
	fmt.Println(ok, raw)

	ok, err = st.Claim.Release(ctx, "jobs:cleanup", "worker-2")
	fmt.Println(ok, ops.CodeOf(err))
	ok, err = st.Claim.Release(ctx, "jobs:cleanup", "worker-1")
	fmt.Println(ok, err)
	// Output:
	// true "worker-1"
	// false STORE_CLAIM_NOT_OWNER
	// true <nil>
}
