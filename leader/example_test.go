package leader_test

import (
	"context"
	"fmt"
	"time"

	"github.com/igniter-go/store/leader"
	"github.com/igniter-go/store/storetest"
)

// A cron job that runs in one instance at a time. Run campaigns, runs the job for the term, and
// resigns when the job returns; each write the job makes carries the term's fence.
func ExampleElection_Run() {
	st, err := storetest.Open()
	if err != nil {
		panic(err)
	}
	defer st.Close()
	// Fences start from Redis's clock in microseconds (so they keep growing even if Redis loses
	// its data); the example sets miniredis's clock to make its output stable.
	st.Redis.SetTime(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	el, err := leader.New(st.Store, "nightly-report", leader.Options{ID: "worker-1"})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	err = el.Run(ctx, func(ctx context.Context, t *leader.Term) error {
		r, _, _ := el.Leader(ctx)
		fmt.Printf("%s leads with fence %d\n", r.ID, t.Fence())
		return nil // the job is done: Run resigns
	})
	_, leads, _ := el.Leader(ctx)
	fmt.Println("run:", err, "- anyone leading after:", leads)
	// Output:
	// worker-1 leads with fence 1735689600000000
	// run: <nil> - anyone leading after: false
}

// Observing who leads, from any instance.
func ExampleElection_Leader() {
	st, err := storetest.Open()
	if err != nil {
		panic(err)
	}
	defer st.Close()
	st.Redis.SetTime(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)) // fences start from Redis's clock
	ctx := context.Background()
	el, _ := leader.New(st.Store, "scheduler", leader.Options{ID: "api-7"})
	term, err := el.Campaign(ctx)
	if err != nil {
		panic(err)
	}
	r, ok, _ := el.Leader(ctx)
	fmt.Println(r.ID, r.Fence, ok)
	_ = term.Resign(ctx)
	// Output:
	// api-7 1735689600000000 true
}
