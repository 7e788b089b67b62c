package streams_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/streams"
)

type order struct {
	N int `json:"n"`
}

// Poison entries are dead-lettered by a consume loop; the handler is fixed; a redrive moves
// them back and each is handled exactly once, with its origin id and error history beside the
// message, and the dead-letter stream keeps only what is not a dead letter of the stream.
func TestRedriveHandlesEachDeadLetterOnce(t *testing.T) {
	obs, dead := signalsOf(ops.SignalDeadLettered)
	env := newStreamEnv(t, func(b *client.Builder) *client.Builder { return b.WithObserver(obs) })
	st := env.st
	ctx := context.Background()
	const total, poison = 12, 4 // n%3 == 0 is poison: 0, 3, 6, 9
	ids := map[int]string{}
	for n := range total {
		id, err := st.Streams.Append(ctx, "orders", order{N: n}, streams.AppendOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ids[n] = id
	}
	// A foreign entry in the dead-letter stream: not a dead letter, it must stay.
	if _, err := st.Streams.Append(ctx, "orders:dead", map[string]string{"note": "by hand"}, streams.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	opts := streams.ConsumeOptions{MaxDeliveries: 2, ClaimIdle: 20 * time.Millisecond, Block: 50 * time.Millisecond, LagInterval: -1}
	g := st.Streams.Group("billing", "w1")

	// Broken handler: poison fails every time and reaches the dead-letter stream.
	cctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- streams.ConsumeAs(cctx, g, "orders", func(ctx context.Context, m streams.Message[order]) error {
			if m.Message.N%3 == 0 {
				return fmt.Errorf("order %d: tax service rejected it", m.Message.N)
			}
			return nil
		}, opts)
	}()
	for range poison {
		select {
		case <-dead:
		case <-time.After(30 * time.Second):
			t.Fatal("poison entries were not dead-lettered")
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// Fixed handler: count deliveries per order.
	var mu sync.Mutex
	handled := map[int]int{}
	seen := map[int]streams.Message[order]{}
	fixed := make(chan struct{}, total)
	cctx, stop = context.WithCancel(ctx)
	go func() {
		done <- streams.ConsumeAs(cctx, g, "orders", func(ctx context.Context, m streams.Message[order]) error {
			mu.Lock()
			handled[m.Message.N]++
			seen[m.Message.N] = m
			mu.Unlock()
			fixed <- struct{}{}
			return nil
		}, opts)
	}()
	res, err := st.Streams.Redrive(ctx, "orders", streams.RedriveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Moved != poison || res.Dropped != 0 || res.Skipped != 1 {
		t.Fatalf("redrive: %+v, want %d moved, 1 skipped", res, poison)
	}
	for range poison {
		select {
		case <-fixed:
		case <-time.After(30 * time.Second):
			t.Fatal("redriven entries were not handled")
		}
	}
	// A second redrive finds nothing to move.
	if res, err := st.Streams.Redrive(ctx, "orders", streams.RedriveOptions{}); err != nil || res.Moved != 0 {
		t.Fatalf("second redrive: %+v %v", res, err)
	}
	// Let the loop run past another claim interval: nothing is delivered again.
	time.Sleep(5 * opts.ClaimIdle) // an absence has no signal to wait for
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for n := 0; n < total; n += 3 {
		if handled[n] != 1 {
			t.Errorf("order %d handled %d times after the redrive, want 1", n, handled[n])
		}
		m := seen[n]
		if m.Fields[streams.RedriveOriginField] != ids[n] {
			t.Errorf("order %d: origin %q, want %q", n, m.Fields[streams.RedriveOriginField], ids[n])
		}
		h := streams.RedriveHistory(streams.Entry{Fields: m.Fields})
		if len(h) != 1 || h[0].ID != ids[n] || h[0].Deliveries != 2 || h[0].Group != "billing" ||
			!strings.Contains(h[0].Error, "tax service rejected it") {
			t.Errorf("order %d: history %+v", n, h)
		}
	}
	if len(handled) != poison {
		t.Errorf("the fixed handler saw %v, want only the %d redriven orders", handled, poison)
	}
	left, err := st.Streams.Range(ctx, "orders:dead", streams.RangeOptions{})
	if err != nil || len(left) != 1 || !strings.Contains(string(left[0].Message), "by hand") {
		t.Fatalf("dead-letter stream after redrive: %d entries %v", len(left), err)
	}
}

// deadLetters appends to stream+":dead" n dead letters of stream (orders 0…n-1, with stream ids
// "1-<i>"), and dup more that repeat the first dup ones (the consume loop's double write).
func deadLetters(t *testing.T, st *client.Store, stream string, n, dup int) {
	t.Helper()
	ctx := context.Background()
	for i := range n + dup {
		k := i % n
		dl := streams.DeadLetter{Stream: stream, Group: "billing", Consumer: "w1", ID: fmt.Sprintf("1-%d", k),
			Error: "boom", Deliveries: 5, Message: []byte(fmt.Sprintf(`{"n":%d}`, k))}
		if _, err := st.Streams.Append(ctx, stream+":dead", dl, streams.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// movedOrders returns how many entries of stream carry each origin id.
func movedOrders(t *testing.T, st *client.Store, stream string) map[string]int {
	t.Helper()
	entries, err := st.Streams.Range(context.Background(), stream, streams.RangeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range entries {
		out[e.Fields[streams.RedriveOriginField]]++
	}
	return out
}

func wantEachOnce(t *testing.T, got map[string]int, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("%d distinct entries moved, want %d", len(got), n)
	}
	for id, c := range got {
		if c != 1 {
			t.Errorf("entry %s moved %d times", id, c)
		}
	}
}

// A redrive interrupted halfway (the ctx is cancelled just after a move committed, so its reply
// is lost too), then run again, moves every dead letter exactly once; duplicate dead letters of
// one entry are dropped, and a filter and an id range limit what moves.
func TestRedriveInterruptedAndRunAgainMovesNothingTwice(t *testing.T) {
	var moves atomic.Int64
	var cancelAt atomic.Int64
	var cancel atomic.Pointer[context.CancelFunc]
	interrupt := func(next ops.Handler) ops.Handler {
		return func(ctx context.Context, op ops.Op) (ops.Result, error) {
			res, err := next(ctx, op)
			if op.Kind == ops.StreamRedrive && err == nil && moves.Add(1) == cancelAt.Load() {
				(*cancel.Load())()
				return ops.Result{}, ops.Failure(op.Kind, ops.ErrCanceled, context.Canceled) // the reply is lost
			}
			return res, err
		}
	}
	env := newStreamEnv(t, func(b *client.Builder) *client.Builder { return b.Use(interrupt) })
	st := env.st
	const n, dup = 40, 5
	deadLetters(t, st, "orders", n, dup)

	ctx, stop := context.WithCancel(context.Background())
	cancel.Store(&stop)
	cancelAt.Store(n / 2)
	first, err := st.Streams.Redrive(ctx, "orders", streams.RedriveOptions{Batch: 7})
	if !errors.Is(err, ops.ErrCanceled) {
		t.Fatalf("interrupted redrive: want a cancelled error, got %v", err)
	}
	if first.Moved != n/2-1 {
		t.Fatalf("interrupted redrive reported %+v, want %d moved before the lost reply", first, n/2-1)
	}
	cancelAt.Store(-1)
	second, err := st.Streams.Redrive(context.Background(), "orders", streams.RedriveOptions{Batch: 7})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first run %+v, second run %+v", first, second)
	if first.Moved+second.Moved != n-1 || second.Dropped != dup {
		t.Errorf("moves: first %+v + second %+v, want %d moved (one reply lost) and %d duplicates dropped", first, second, n-1, dup)
	}
	wantEachOnce(t, movedOrders(t, st, "orders"), n)
	if left, _ := st.Streams.Range(context.Background(), "orders:dead", streams.RangeOptions{}); len(left) != 0 {
		t.Errorf("%d dead letters left", len(left))
	}
}

// Concurrent redrives of one dead-letter stream move each dead letter exactly once.
func TestRedriveConcurrentRunsMoveEachOnce(t *testing.T) {
	env := newStreamEnv(t, nil)
	st := env.st
	const n = 60
	deadLetters(t, st, "orders", n, 0)
	var wg sync.WaitGroup
	var moved atomic.Int64
	for range 4 {
		wg.Go(func() {
			res, err := st.Streams.Redrive(context.Background(), "orders", streams.RedriveOptions{Batch: 5})
			if err != nil {
				t.Error(err)
			}
			moved.Add(res.Moved)
		})
	}
	wg.Wait()
	if moved.Load() != n {
		t.Errorf("%d moves reported, want %d", moved.Load(), n)
	}
	wantEachOnce(t, movedOrders(t, st, "orders"), n)
}

// A filter and an id range pick what moves; the rest stays dead.
func TestRedriveFilterAndRange(t *testing.T) {
	env := newStreamEnv(t, nil)
	st := env.st
	ctx := context.Background()
	deadLetters(t, st, "orders", 10, 0)
	all, _ := st.Streams.Range(ctx, "orders:dead", streams.RangeOptions{})
	res, err := st.Streams.Redrive(ctx, "orders", streams.RedriveOptions{
		Start: all[2].ID, End: all[7].ID, // dead letters 2…7
		Filter: func(dl streams.DeadLetter) bool {
			return strings.HasSuffix(dl.ID, "-3") || strings.HasSuffix(dl.ID, "-6") || strings.HasSuffix(dl.ID, "-9")
		},
	})
	if err != nil || res.Moved != 2 || res.Skipped != 4 {
		t.Fatalf("redrive: %+v %v, want 2 moved (3 and 6; 9 is out of range), 4 skipped", res, err)
	}
	got := movedOrders(t, st, "orders")
	if got["1-3"] != 1 || got["1-6"] != 1 || len(got) != 2 {
		t.Fatalf("moved %v", got)
	}
	if left, _ := st.Streams.Range(ctx, "orders:dead", streams.RangeOptions{}); len(left) != 8 {
		t.Fatalf("%d dead letters left, want 8", len(left))
	}
}

// On a cluster, with the stream and its dead letters in different hash slots, a move takes two
// steps; a dead letter left behind by an interruption between them (simulated: the same dead
// letter written again after its move) is removed by the next redrive, not moved twice. With a
// hash-tagged stream name both keys share a slot and the move is one script.
func TestRedriveOnACluster(t *testing.T) {
	c := redistest.StartCluster(t, 3)
	st, err := client.New().WithService("api").WithAdapter(client.Redis(c.Client(t))).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	for _, stream := range []string{"orders", "{orders}"} {
		deadLetters(t, st, stream, 20, 0)
		opts := streams.RedriveOptions{}
		res, err := st.Streams.Redrive(ctx, stream, opts)
		if err != nil || res.Moved != 20 {
			t.Fatalf("%s: redrive %+v %v", stream, res, err)
		}
		// The interrupted state: dead letter 5 is back (as if its XDEL had not run).
		redo := streams.DeadLetter{Stream: stream, Group: "billing", Consumer: "w1", ID: "1-5", Error: "boom", Deliveries: 5, Message: []byte(`{"n":5}`)}
		if _, err := st.Streams.Append(ctx, stream+":dead", redo, streams.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
		res, err = st.Streams.Redrive(ctx, stream, opts)
		if err != nil || res.Moved != 0 || res.Dropped != 1 {
			t.Fatalf("%s: rerun %+v %v, want 1 dropped", stream, res, err)
		}
		wantEachOnce(t, movedOrders(t, st, stream), 20)
		if left, _ := st.Streams.Range(ctx, stream+":dead", streams.RangeOptions{}); len(left) != 0 {
			t.Fatalf("%s: %d dead letters left", stream, len(left))
		}
	}
}

// An entry that dies again after a redrive keeps its history: the next dead letter carries it,
// and the next redrive appends the new death to it, with the first origin id.
func TestRedriveKeepsHistoryAcrossDeaths(t *testing.T) {
	obs, dead := signalsOf(ops.SignalDeadLettered)
	env := newStreamEnv(t, func(b *client.Builder) *client.Builder { return b.WithObserver(obs) })
	st := env.st
	ctx := context.Background()
	deadLetters(t, st, "orders", 1, 0) // order 0, first appended as 1-0
	if res, err := st.Streams.Redrive(ctx, "orders", streams.RedriveOptions{}); err != nil || res.Moved != 1 {
		t.Fatalf("first redrive: %+v %v", res, err)
	}
	cctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- st.Streams.Group("billing", "w2").Consume(cctx, "orders", func(context.Context, streams.Entry) error {
			return errors.New("still broken")
		}, streams.ConsumeOptions{MaxDeliveries: 1, Block: 50 * time.Millisecond, LagInterval: -1})
	}()
	select {
	case <-dead:
	case <-time.After(30 * time.Second):
		t.Fatal("the redriven entry was not dead-lettered again")
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if res, err := st.Streams.Redrive(ctx, "orders", streams.RedriveOptions{}); err != nil || res.Moved != 1 {
		t.Fatalf("second redrive: %+v %v", res, err)
	}
	entries, err := st.Streams.Range(ctx, "orders", streams.RangeOptions{})
	if err != nil || len(entries) != 2 {
		t.Fatalf("%d entries %v", len(entries), err)
	}
	last := entries[1]
	h := streams.RedriveHistory(last)
	if last.Fields[streams.RedriveOriginField] != "1-0" || len(h) != 2 || h[0].ID != "1-0" || h[1].ID != entries[0].ID ||
		h[1].Group != "billing" || !strings.Contains(h[1].Error, "still broken") {
		t.Fatalf("origin %q, history %+v", last.Fields[streams.RedriveOriginField], h)
	}
}

// signalsOf forwards the observer signals of one kind to a channel.
func signalsOf(kind ops.SignalKind) (ops.Observer, chan ops.Signal) {
	ch := make(chan ops.Signal, 64)
	return newStreamSignals(func(s ops.Signal) {
		if s.Kind == kind {
			select {
			case ch <- s:
			default:
			}
		}
	}), ch
}
