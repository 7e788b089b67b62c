package drive_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/igniter-go/store/loadtest/internal/drive"
	"github.com/igniter-go/store/loadtest/internal/hist"
)

// stallingTarget answers at once, except call number stallAt, which takes stall.
func stallingTarget(stallAt int64, stall time.Duration) drive.Step {
	var n atomic.Int64
	return func(ctx context.Context, _ *drive.Worker) (string, error) {
		if n.Add(1) == stallAt {
			time.Sleep(stall)
		}
		return "op", nil
	}
}

// The wrk2 scenario: one worker at 100 calls/s against a target that stalls 1 s once. A closed
// loop records one slow call; the open loop records every call that was due during the stall
// with the time it waited (1 s, 990 ms, …, 10 ms), so ~100 calls of 3 s exceed 200 ms and
// the p99 shows the stall. The service time (uncorrected) still shows one slow call.
func TestOpenLoopCorrectsCoordinatedOmission(t *testing.T) {
	const rate, stall = 100, time.Second
	set := hist.NewSet(1)
	res := drive.Run(context.Background(), drive.Options{Workers: 1, Rate: rate, Duration: 3 * time.Second},
		set, stallingTarget(50, stall))
	ops, _ := set.Summaries(res.Elapsed)
	op := ops[0]
	if op.Service == nil {
		t.Fatal("open loop must report the service time")
	}
	slow := countAbove(t, set, 200*time.Millisecond)
	t.Logf("corrected: count %d p50 %v p99 %v max %v; service p99 %v max %v; calls above 200ms: %d; late starts %d",
		op.Count, op.P50, op.P99, op.Max, op.Service.P99, op.Service.Max, slow, res.Late)
	// Calls due during the stall: stall×rate = 100; those that waited > 200 ms: ~80.
	if slow < 60 {
		t.Errorf("only %d calls above 200 ms: the stall is not charged to the calls that waited for it", slow)
	}
	if op.P99 < 500*time.Millisecond || op.Max < 900*time.Millisecond {
		t.Errorf("corrected p99 %v / max %v hide a 1 s stall", op.P99, op.Max)
	}
	if op.Service.P99 > 200*time.Millisecond || op.Service.Max < 900*time.Millisecond {
		t.Errorf("service time p99 %v / max %v: it should show one slow call only", op.Service.P99, op.Service.Max)
	}
}

// The same stall in a closed loop: one slow call, the p99 hides it (coordinated omission),
// which is why an SRE wants -rate.
func TestClosedLoopHidesTheStall(t *testing.T) {
	set := hist.NewSet(1)
	n := atomic.Int64{}
	res := drive.Run(context.Background(), drive.Options{Workers: 1, Duration: 2 * time.Second}, set,
		func(ctx context.Context, _ *drive.Worker) (string, error) {
			if n.Add(1) == 50 {
				time.Sleep(time.Second)
			} else {
				time.Sleep(10 * time.Millisecond) // ~100 calls/s, as above
			}
			return "op", nil
		})
	// The stalled call, and at most a couple of 10 ms sleeps the loaded machine stretched.
	if slow := countAbove(t, set, 200*time.Millisecond); slow < 1 || slow > 3 {
		t.Errorf("%d calls above 200 ms in a closed loop, want the stalled one", slow)
	}
	ops, _ := set.Summaries(res.Elapsed)
	if ops[0].Service != nil {
		t.Error("a closed loop has no separate service time")
	}
}

func countAbove(t *testing.T, set *hist.Set, d time.Duration) int64 {
	t.Helper()
	return set.CountAbove("op", d)
}

// Open-loop rate accuracy: 400 calls/s over 4 workers for 2 s against an instant target issue
// 800 calls ±2 % (calls due before the deadline run even if the loaded machine made them late),
// plus the 80 of the warm-up.
func TestOpenLoopRateAccuracy(t *testing.T) {
	set := hist.NewSet(4)
	var calls atomic.Int64
	res := drive.Run(context.Background(), drive.Options{Workers: 4, Rate: 400, Warmup: 200 * time.Millisecond, Duration: 2 * time.Second}, set,
		func(context.Context, *drive.Worker) (string, error) { calls.Add(1); return "op", nil })
	ops, _ := set.Summaries(res.Elapsed)
	got := ops[0].Count
	t.Logf("measured %d calls in %v (%.1f/s), %d started >1ms late, %d calls including warm-up", got, res.Elapsed, ops[0].Rate, res.Late, calls.Load())
	if got < 784 || got > 816 {
		t.Errorf("measured %d calls, want 800 ±2%%", got)
	}
	if w := calls.Load(); w < 860 || w > 900 {
		t.Errorf("%d calls in all, want ~880 (warm-up 80 + 800)", w)
	}
}

// The op count stops the run; ctx stops it early and marks it interrupted.
func TestOpCountAndInterrupt(t *testing.T) {
	set := hist.NewSet(2)
	res := drive.Run(context.Background(), drive.Options{Workers: 2, Ops: 1000}, set,
		func(context.Context, *drive.Worker) (string, error) { return "op", nil })
	if n := set.Total(); n < 1000 || n > 1002 || res.Interrupted {
		t.Errorf("op count 1000: recorded %d, interrupted %v", n, res.Interrupted)
	}
	ctx, cancel := context.WithCancel(context.Background())
	set = hist.NewSet(2)
	var n atomic.Int64
	res = drive.Run(ctx, drive.Options{Workers: 2, Duration: time.Hour}, set,
		func(ctx context.Context, _ *drive.Worker) (string, error) {
			if n.Add(1) == 500 {
				cancel()
			}
			return "op", ctx.Err()
		})
	if !res.Interrupted || set.Total() < 400 {
		t.Errorf("interrupt: %+v, recorded %d", res, set.Total())
	}
}
