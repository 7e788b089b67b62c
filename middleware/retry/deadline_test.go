package retry_test

import (
	"context"
	"testing"
	"time"

	"github.com/igniter-go/store/middleware/retry"
	"github.com/igniter-go/store/ops"
)

// lateDone is a context whose deadline has a given time but whose Done channel has not closed
// yet: the shared deadline of the timeout middleware between the deadline and its timer's firing
// (or any context on a loaded machine). Err is nil, as a context's is until Done closes.
type lateDone struct {
	context.Context
	at time.Time
}

func (c lateDone) Deadline() (time.Time, bool) { return c.at, true }

// TestRetryStartsNoAttemptPastTheDeadlineExactlyOnce: the first attempt fails (unavailable)
// when the deadline has already passed but ctx.Err is still nil. Before the fix, retry trusted
// ctx.Err and started a second attempt after the deadline (with go-redis's read timeout equal to
// the store's default deadline, a KV.Get on a silent server took 10 s instead of 5 s).
func TestRetryStartsNoAttemptPastTheDeadlineExactlyOnce(t *testing.T) {
	for _, tc := range []struct {
		name    string
		left    time.Duration // time to the deadline when the attempt fails
		backoff retry.BackoffFunc
		min     time.Duration // Policy.MinAttemptTime
		calls   int
	}{
		{"deadline passed, no backoff", -time.Millisecond, retry.NoBackoff, 0, 1},
		{"deadline passed, backoff", -time.Millisecond, retry.Constant(time.Millisecond), 0, 1},
		{"less than the default attempt time left", 2 * time.Millisecond, retry.NoBackoff, 0, 1},
		// An hour's backoff with a minute left: no wait, no attempt (before the fix it slept
		// until Done closed, here never: the test would hang).
		{"backoff longer than the time left", time.Minute, retry.Constant(time.Hour), 0, 1},
		{"enough left", time.Minute, retry.NoBackoff, 0, 3},
		{"negative MinAttemptTime: any time left", 2 * time.Millisecond, retry.NoBackoff, -1, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &script{errs: errs(5, down)}
			h := retry.New(retry.Policy{Backoff: tc.backoff, NoBudget: true, MinAttemptTime: tc.min})(s.handle)
			ctx := lateDone{Context: context.Background(), at: time.Now().Add(tc.left)}
			_, err := h(ctx, read)
			if s.calls != tc.calls {
				t.Fatalf("%d attempts, want %d", s.calls, tc.calls)
			}
			if !ops.HasCode(err, ops.CodeConnectionFailed) {
				t.Fatalf("the last attempt's error must stand: %v", err)
			}
		})
	}
}

// A retry that the deadline prevents raises no retry signal and takes no budget token.
func TestRetrySkippedByTheDeadlineSpendsNothingExactlyOnce(t *testing.T) {
	b := retry.NewBudget(0, 3)
	retries := 0
	s := &script{errs: errs(5, down)}
	h := retry.New(retry.Policy{Budget: b, OnRetry: func(context.Context, retry.Attempt) { retries++ }})(s.handle)
	_, _ = h(lateDone{Context: context.Background(), at: time.Now().Add(-time.Second)}, read)
	if s.calls != 1 || retries != 0 || b.Tokens() != 3 {
		t.Fatalf("calls %d, OnRetry %d, tokens %d; want 1, 0, 3", s.calls, retries, b.Tokens())
	}
}
