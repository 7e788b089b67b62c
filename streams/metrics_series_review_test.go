package streams_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/streams"
	"github.com/igniter-go/store/telemetry/opsprom"
)

// TestStragglerHandlerLeavesNoSeriesExactlyOnce: a handler that outlives its loop's StopGrace
// and then fails sends its stream signal (SignalRedelivered) after the loop stopped, without a
// group instance. The metrics count it under opsprom.StreamOther, and those series must not
// outlive every loop: after the last loop stopped the stream series are back to none. Before the
// fix the StreamOther label set it created had no group instance, so no stop ever deleted it: 4
// counter series per service for good.
func TestStragglerHandlerLeavesNoSeriesExactlyOnce(t *testing.T) {
	m := signalledMetrics{opsprom.New(), ops.SignalRedelivered, make(chan ops.Signal, 1)}
	e := newStreamEnv(t, func(b *client.Builder) *client.Builder { return b.WithMetrics(m) })
	ctx := context.Background()
	if _, err := e.st.Streams.Append(ctx, "jobs", "job", streams.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	started, release := make(chan struct{}), make(chan struct{})
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- e.st.Streams.Group("billing", "c1").Consume(lctx, "jobs", func(context.Context, streams.Entry) error {
			close(started)
			<-release // ignores its ctx: outlives StopGrace
			return errors.New("failed after its loop stopped")
		}, streams.ConsumeOptions{EnsureStartID: "0", Block: 20 * time.Millisecond, StopGrace: time.Millisecond})
	}()
	<-started
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if left := streamSeriesOf(t, m.Metrics, ""); len(left) > 0 {
		t.Fatalf("series left after the loop stopped:\n%s", strings.Join(left, "\n"))
	}
	close(release)
	if s := <-m.seen; s.Source != 0 {
		t.Fatalf("the straggler's signal carries source %d after its loop stopped", s.Source)
	}
	if left := streamSeriesOf(t, m.Metrics, ""); len(left) > 0 {
		t.Fatalf("a straggler's signal after every loop stopped left series:\n%s", strings.Join(left, "\n"))
	}
}
