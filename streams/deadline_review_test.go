package streams_test

import (
	"context"
	"testing"
	"time"

	"github.com/igniter-go/store/streams"
)

// TestConsumeStopsWithinBlockOnAFrozenServerExactlyOnce: ConsumeOptions.Block says it bounds how
// long shutdown waits for the read in progress. A loop whose server froze (SIGSTOP) while it ran
// must return soon after its ctx is canceled. Found by the issue-22 review: it returned 5 s after
// the cancel with Block 200 ms (go-redis does not end a read when its ctx is canceled; the
// CLIENT UNBLOCK that ends it goes to the same frozen server; the read ends at the operation
// deadline, Block plus the store's 5 s default). The 2 s bound is a correctness bound, not a
// measurement: the defect is 3 s past it.
func TestConsumeStopsWithinBlockOnAFrozenServerExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("freezes a redis-server")
	}
	e := newStreamEnv(t, nil)
	ctx := context.Background()
	if _, err := e.st.Streams.Append(ctx, "jobs", 1, streams.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	handled := make(chan struct{}, 1)
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- e.st.Streams.Group("g", "c").Consume(lctx, "jobs", func(context.Context, streams.Entry) error {
			select {
			case handled <- struct{}{}:
			default:
			}
			return nil
		}, streams.ConsumeOptions{EnsureStartID: "0", Block: 200 * time.Millisecond})
	}()
	<-handled
	e.srv.Freeze()
	defer e.srv.Thaw()
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("Consume returned %v after its ctx was canceled (Block 200ms): %v", took, err)
		}
	case <-time.After(30 * time.Second): // only a hang reaches it
		e.srv.Thaw()
		<-done
		t.Fatal("Consume still running 30 s after its ctx was canceled")
	}
}
