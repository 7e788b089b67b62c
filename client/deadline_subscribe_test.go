package client_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/events"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
)

// TestSubscribeBoundedByItsDeadlineExactlyOnce: Events.Subscribe on a server that froze (SIGSTOP:
// it accepts TCP and answers nothing) must return by its deadline with STORE_TIMEOUT, like every
// other call. deadlineSlack is a correctness bound, not a measurement: the defect returns 5 s
// late. Found by the issue-22 review: after the SUBSCRIBE times out, subscriber.add cleans up
// with an UNSUBSCRIBE under context.WithoutCancel(ctx), which has no deadline, so go-redis dials
// a new pub/sub connection and waits out its 5 s ReadTimeout in the handshake: 5.5 s for a
// 500 ms deadline, 10 s for the 5 s default. Every other kind of call (KV, Batch Get/Set,
// Publish, Append, Scan, Acquire with Wait, Increment, Ping) held, warm or cold.
func TestSubscribeBoundedByItsDeadlineExactlyOnce(t *testing.T) {
	srv := redistest.StartFreezable(t)
	st, err := client.New().WithService("api").WithAdapter(client.Redis(srv.Client(t))).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.Freeze()
	defer srv.Thaw()
	const deadline = 500 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	_, err = st.Events.Subscribe(ctx, "e", func(context.Context, events.Message) error { return nil })
	took := time.Since(start)
	if took > deadline+deadlineSlack {
		t.Errorf("Events.Subscribe returned after %v, its deadline was %v (slack %v)", took, deadline, deadlineSlack)
	}
	var e *ops.Error
	if !errors.As(err, &e) || e.Code != ops.CodeTimeout {
		t.Errorf("Events.Subscribe error = %v, want %s", err, ops.CodeTimeout)
	}
}
