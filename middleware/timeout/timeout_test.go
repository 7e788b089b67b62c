package timeout_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/igniter-go/store/middleware/timeout"
	"github.com/igniter-go/store/ops"
)

// deadlineOf runs op through timeout.New(d) and returns the deadline the handler saw, relative
// to the moment before the call (ok=false: none).
func deadlineOf(t *testing.T, d time.Duration, ctx context.Context, op ops.Op) (time.Duration, bool) {
	t.Helper()
	var got time.Time
	var ok bool
	before := time.Now()
	_, err := timeout.New(d)(func(ctx context.Context, _ ops.Op) (ops.Result, error) {
		got, ok = ctx.Deadline()
		return ops.Result{}, nil
	})(ctx, op)
	if err != nil {
		t.Fatal(err)
	}
	return got.Sub(before), ok
}

func TestDefaultDeadlineOnlyWhenNone(t *testing.T) {
	get := ops.Op{Kind: ops.KVGet}
	rel, ok := deadlineOf(t, time.Minute, context.Background(), get)
	if !ok || rel < time.Minute || rel > 2*time.Minute {
		t.Fatalf("no deadline given: got %v %v, want about a minute", rel, ok)
	}
	for _, caller := range []time.Duration{time.Second, time.Hour} {
		ctx, cancel := context.WithTimeout(context.Background(), caller)
		want, _ := ctx.Deadline()
		var got time.Time
		_, _ = timeout.New(time.Minute)(func(ctx context.Context, _ ops.Op) (ops.Result, error) {
			got, _ = ctx.Deadline()
			return ops.Result{}, nil
		})(ctx, get)
		cancel()
		if !got.Equal(want) {
			t.Fatalf("the caller's deadline (%v) must win: got %v, want %v", caller, got, want)
		}
	}
	if _, ok := deadlineOf(t, 0, context.Background(), get); ok {
		t.Fatal("New(0) must be off")
	}
}

func TestBlockingReadGetsItsBlockTime(t *testing.T) {
	read := ops.Op{Kind: ops.StreamRead, Stream: &ops.StreamArgs{Block: 24 * time.Hour}}
	rel, ok := deadlineOf(t, time.Minute, context.Background(), read)
	if !ok || rel < 24*time.Hour+time.Minute {
		t.Fatalf("deadline %v, want ≥ block + default", rel)
	}
}

func TestDeadlineEndsAStalledCall(t *testing.T) {
	stalled := func(ctx context.Context, op ops.Op) (ops.Result, error) {
		<-ctx.Done() // a Redis that never answers
		return ops.Result{}, ops.Failure(op.Kind, ops.ErrUnavailable, ctx.Err())
	}
	_, err := timeout.New(time.Millisecond)(stalled)(context.Background(), ops.Op{Kind: ops.KVGet})
	if !ops.HasCode(err, ops.CodeTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}

func BenchmarkTimeoutNoDeadline(b *testing.B) {
	h := timeout.New(timeout.Default)(func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{}, nil })
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = h(ctx, ops.Op{Kind: ops.KVGet})
	}
}

func TestSharedDeadlineBehavesAsAContext(t *testing.T) {
	type key struct{}
	parent := context.WithValue(context.Background(), key{}, "v") // cannot be canceled: shared path
	var seen context.Context
	_, _ = timeout.New(20*time.Millisecond)(func(ctx context.Context, _ ops.Op) (ops.Result, error) {
		seen = ctx
		return ops.Result{}, nil
	})(parent, ops.Op{Kind: ops.KVGet})
	at, ok := seen.Deadline()
	if !ok || seen.Value(key{}) != "v" || seen.Err() != nil {
		t.Fatalf("deadline %v %v, value %v, err %v", at, ok, seen.Value(key{}), seen.Err())
	}
	<-seen.Done() // the shared timer fires
	if !errors.Is(seen.Err(), context.DeadlineExceeded) || !errors.Is(context.Cause(seen), context.DeadlineExceeded) {
		t.Fatalf("after the deadline: %v / %v", seen.Err(), context.Cause(seen))
	}
	if time.Now().Before(at) {
		t.Fatal("Done closed before the deadline")
	}
	child, cancel := context.WithCancel(seen) // children see the deadline too
	defer cancel()
	if !errors.Is(child.Err(), context.Canceled) && !errors.Is(child.Err(), context.DeadlineExceeded) {
		t.Fatalf("child of an expired context: %v", child.Err())
	}
}

func TestCancelableContextsKeepTheirCancellation(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	stalled := func(ctx context.Context, op ops.Op) (ops.Result, error) {
		cancel()
		<-ctx.Done()
		return ops.Result{}, ctx.Err()
	}
	_, err := timeout.New(time.Hour)(stalled)(parent, ops.Op{Kind: ops.KVGet})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("a canceled caller must end the call: %v", err)
	}
}

// Calls that share windows over many windows' lifetimes each get a deadline between d and
// d+Granularity after the call (less than d only by a stale timer's lateness, which the lower
// bound allows up to a Granularity), and stale windows are replaced, not handed out forever.
func TestSharedWindowsStayWithinGranularity(t *testing.T) {
	const d = time.Second
	var seen context.Context
	h := timeout.New(d)(func(ctx context.Context, _ ops.Op) (ops.Result, error) {
		seen = ctx
		return ops.Result{}, nil
	})
	distinct := map[time.Time]bool{}
	for len(distinct) < 40 { // 8 shards: several generations of windows
		before := time.Now()
		if _, err := h(context.Background(), ops.Op{Kind: ops.KVGet}); err != nil {
			t.Fatal(err)
		}
		after := time.Now()
		at, ok := seen.Deadline()
		if !ok {
			t.Fatal("no deadline")
		}
		// The call ran somewhere in [before, after].
		if at.Sub(before) < d-timeout.Granularity || at.Sub(after) > d+timeout.Granularity {
			t.Fatalf("deadline %v after the start of the call and %v after its end, want within [%v, %v]",
				at.Sub(before), at.Sub(after), d-timeout.Granularity, d+timeout.Granularity)
		}
		distinct[at] = true
	}
}

// The common parent, context.Background(), gets its window's own context: no allocation per
// call, and it behaves as a context with the shared deadline.
func TestBackgroundParentSharesTheWindowsContext(t *testing.T) {
	var seen []context.Context
	h := timeout.New(20 * time.Millisecond)(func(ctx context.Context, _ ops.Op) (ops.Result, error) {
		seen = append(seen[:0], ctx)
		return ops.Result{}, nil
	})
	seen = make([]context.Context, 0, 1)
	if n := testing.AllocsPerRun(1000, func() { _, _ = h(context.Background(), ops.Op{Kind: ops.KVGet}) }); n != 0 {
		t.Fatalf("%v allocations per call with a Background parent", n)
	}
	ctx := seen[0]
	at, ok := ctx.Deadline()
	if !ok || ctx.Err() != nil || ctx.Value(struct{}{}) != nil {
		t.Fatalf("deadline %v %v, err %v", at, ok, ctx.Err())
	}
	<-ctx.Done()
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) || time.Now().Before(at) {
		t.Fatalf("after Done: %v (deadline %v)", ctx.Err(), at)
	}
}
