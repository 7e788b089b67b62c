package opsprom_test

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/telemetry/opsprom"
)

// A late signal (no group instance) of a stream with no loop running counts under StreamOther
// while a folded loop keeps StreamOther live, and StreamOther's series still go when that loop
// stops: the late signal adds no instance that would keep them.
func TestLateSignalCountsUnderALiveOtherExactlyOnce(t *testing.T) {
	m := opsprom.New(opsprom.WithMaxStreams(1))
	loopSignals(m, "a", 1)
	loopSignals(m, "b", 2) // folded: StreamOther is live
	m.Observe(context.Background(), ops.Signal{Kind: ops.SignalRedelivered, Service: "shop", Name: "gone", Group: "billing"})
	if late := `igniter_store_stream_redelivered_total{group="_other",service="shop",stream="_other"} 2`; !slices.Contains(scrape(t, m), late) {
		t.Fatalf("the late signal is not counted under the live %s: %v", opsprom.StreamOther, scrape(t, m))
	}
	loopStopped(m, "b", 2)
	loopStopped(m, "a", 1)
	if n := testutil.CollectAndCount(m, opsprom.MetricStreamRedelivered); n != 0 {
		t.Fatalf("%d redelivered series after every loop stopped", n)
	}
}

// Many goroutines start and stop loops on overlapping streams at once, under a small cap: once
// all have stopped, no stream series is left (run with -race).
func TestStreamSeriesConcurrentChurnExactlyOnce(t *testing.T) {
	m := opsprom.New(opsprom.WithMaxStreams(4))
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				src := uint64(g*1000 + i + 1)
				stream := "s" + strconv.Itoa(i%7)
				loopSignals(m, stream, src)
				_ = testutil.CollectAndCount(m) // a scrape in between
				loopStopped(m, stream, src)
			}
		}()
	}
	wg.Wait()
	for _, name := range streamMetrics {
		if n := testutil.CollectAndCount(m, name); n != 0 {
			t.Errorf("%d %s series left after every loop stopped", n, name)
		}
	}
}
