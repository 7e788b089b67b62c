// Command cron-leadership runs a cleanup job on exactly one of three instances, and moves it
// to another instance when the leader dies.
//
// The original's recipe takes a claim once per run:
//
//	const isLeader = await store.claim.once("cron:cleanup", HOSTNAME, { ttl: 55 })
//	if (isLeader) await performCleanup()
//
// A cleanup that outlives the 55 s runs twice at once; a host that stalls keeps writing after
// its claim expired and another host took over; nobody can tell who runs the job. Here a
// leader.Election keeps the lease alive while the job runs, hands it over within the lease TTL
// when the leader dies, and gives every term a fencing token that the job's storage uses to
// reject a stale leader's writes.
//
//	go run ./examples/cron-leadership              # embedded miniredis
//	go run ./examples/cron-leadership -redis ADDR  # a real Redis
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/examples/internal/harness"
	"github.com/igniter-go/store/leader"
)

func main() { harness.Main(run) }

const ttl = time.Second

// fencedSink stands for the storage the job writes (a database row with a fence column): it
// rejects a write whose fence is smaller than one it has accepted.
type fencedSink struct {
	mu       sync.Mutex
	fence    int64
	writes   int
	rejected int
}

func (s *fencedSink) write(fence int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if fence < s.fence {
		s.rejected++
		return errors.New("rejected: stale fence, a newer leader has written")
	}
	s.fence = fence
	s.writes++
	return nil
}

func run(ctx context.Context, env *harness.Env, out io.Writer) error {
	hosts := []string{"host-a", "host-b", "host-c"}
	stores := make([]*client.Store, len(hosts))
	elections := make([]*leader.Election, len(hosts))
	for i, h := range hosts {
		st, err := env.Store(client.New().WithService("maintenance"))
		if err != nil {
			return err
		}
		el, err := leader.New(st, "cleanup", leader.Options{TTL: ttl, ID: h})
		if err != nil {
			return err
		}
		stores[i], elections[i] = st, el
	}
	sink := &fencedSink{}

	// host-a starts first and wins.
	ta, err := elections[0].Campaign(ctx)
	if err != nil {
		return err
	}
	// Fences are at least Redis's clock in microseconds (so they keep growing even if Redis
	// loses its data): the output compares them rather than printing them.
	fmt.Fprintln(out, "host-a leads the cleanup job")
	if err := sink.write(ta.Fence()); err != nil {
		return err
	}
	fmt.Fprintln(out, "host-a: cleanup written")

	// host-b and host-c run the job whenever they lead.
	runCtx, stopRuns := context.WithCancel(ctx)
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, el := range elections[1:] {
		wg.Go(func() {
			errs <- el.Run(runCtx, func(ctx context.Context, t *leader.Term) error {
				tick := time.NewTicker(50 * time.Millisecond)
				defer tick.Stop()
				for {
					if err := sink.write(t.Fence()); err != nil {
						return err
					}
					select {
					case <-ctx.Done():
						return nil
					case <-tick.C:
					}
				}
			})
		})
	}

	// host-a crashes: its store closes without resigning.
	crashed := time.Now()
	_ = stores[0].Close()
	fmt.Fprintln(out, "host-a crashed without resigning")
	<-ta.Done() // its term gave up the lease before it could expire

	// Watch from host-b until another host leads.
	var next leader.Record
	wctx, found := context.WithCancel(ctx)
	_ = elections[1].Observe(wctx, func(r leader.Record, ok bool) {
		if ok && r.ID != "host-a" {
			next = r
			found()
		}
	})
	found()
	took := time.Since(crashed)
	fmt.Fprintf(out, "another host took over within the lease TTL: %v (its fence is larger than host-a's: %v)\n",
		took <= ttl+ttl/5, next.Fence > ta.Fence())

	// host-a was only paused, not dead: it wakes up and writes with its old fence.
	fmt.Fprintln(out, "host-a wakes up and writes with its old fence ->", sink.write(ta.Fence()))

	stopRuns()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "stale writes accepted: 0, rejected: %d\n", sink.rejected)
	return nil
}
