package ratelimit_test

import (
	"context"
	"fmt"

	"github.com/igniter-go/store/ratelimit"
	"github.com/igniter-go/store/storetest"
)

func Example() {
	st, _ := storetest.Open()
	defer st.Close()
	ctx := context.Background()
	tenant := st.MustScope("organization", "org_1")
	limiter, err := ratelimit.New(tenant, ratelimit.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	limit := ratelimit.Limit{Rate: 10, Period: 60_000_000_000, Burst: 3} // 10 a minute, bursts of 3
	for i := range 4 {
		r, _ := limiter.Allow(ctx, "api:POST /invoices", limit)
		fmt.Println(i, r.OK(), r.Remaining, r.RetryAfter > 0)
	}
	// Output:
	// 0 true 2 false
	// 1 true 1 false
	// 2 true 0 false
	// 3 false 0 true
}
