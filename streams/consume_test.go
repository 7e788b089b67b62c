package streams_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/streams"
)

// streamSignals counts the signals a store reports, and calls on for each.
type streamSignals struct {
	mu     sync.Mutex
	counts map[ops.SignalKind]int
	last   map[ops.SignalKind]ops.Signal
	on     func(ops.Signal)
}

func newStreamSignals(on func(ops.Signal)) *streamSignals {
	return &streamSignals{counts: map[ops.SignalKind]int{}, last: map[ops.SignalKind]ops.Signal{}, on: on}
}

func (l *streamSignals) Observe(_ context.Context, s ops.Signal) {
	l.mu.Lock()
	l.counts[s.Kind]++
	l.last[s.Kind] = s
	l.mu.Unlock()
	if l.on != nil {
		l.on(s)
	}
}

func (l *streamSignals) count(k ops.SignalKind) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counts[k]
}

func (l *streamSignals) lastOf(k ops.SignalKind) ops.Signal {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last[k]
}

// fastConsume are options that make claims and lag reports happen within milliseconds.
func fastConsume(concurrency int, maxDeliveries int64) streams.ConsumeOptions {
	return streams.ConsumeOptions{Concurrency: concurrency, Block: 20 * time.Millisecond, ClaimIdle: 50 * time.Millisecond,
		ClaimInterval: 20 * time.Millisecond, MaxDeliveries: maxDeliveries, LagInterval: 10 * time.Millisecond}
}

func readStreamDeadLetters(t *testing.T, raw *redis.Client, key string) []streams.DeadLetter {
	t.Helper()
	msgs, err := raw.XRange(context.Background(), key, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]streams.DeadLetter, len(msgs))
	for i, m := range msgs {
		if err := json.Unmarshal([]byte(m.Values["data"].(string)), &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestConsumeAcksRetriesAndDeadLetters(t *testing.T) {
	done := make(chan struct{})
	var once sync.Once
	var ok sync.Map // message → handled successfully
	var okCount atomic.Int32
	var deadLettered atomic.Bool
	check := func() {
		if okCount.Load() == 3 && deadLettered.Load() {
			once.Do(func() { close(done) })
		}
	}
	log := newStreamSignals(func(s ops.Signal) {
		if s.Kind == ops.SignalDeadLettered {
			deadLettered.Store(true)
			check()
		}
	})
	e := newStreamEnv(t, func(b *client.Builder) *client.Builder { return b.WithObserver(log) })
	ctx := context.Background()
	ids := map[string]string{}
	for _, m := range []string{"ok", "flaky", "panics", "poison"} {
		id, err := e.st.Streams.Append(ctx, "jobs", m, streams.AppendOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ids[m] = id
	}
	var attempts sync.Map // message → *atomic.Int32
	handler := func(ctx context.Context, en streams.Entry) error {
		var m string
		if err := en.Decode(&m); err != nil {
			return err
		}
		n, _ := attempts.LoadOrStore(m, new(atomic.Int32))
		attempt := n.(*atomic.Int32).Add(1)
		switch {
		case m == "poison":
			return errors.New("poison pill")
		case m == "flaky" && attempt == 1:
			return errors.New("flaky once")
		case m == "panics" && attempt == 1:
			panic("boom")
		}
		if _, dup := ok.LoadOrStore(m, true); !dup {
			okCount.Add(1)
			check()
		}
		return nil
	}
	cctx, cancel := context.WithCancel(ctx)
	result := make(chan error, 1)
	go func() { result <- e.st.Streams.Group("g", "c1").Consume(cctx, "jobs", handler, fastConsume(2, 3)) }()
	select {
	case <-done:
	case err := <-result:
		t.Fatalf("Consume returned early: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the loop did not handle every entry") // a guard, not synchronisation
	}
	cancel()
	if err := <-result; err != nil {
		t.Fatalf("Consume after cancel: %v, want nil", err)
	}

	key := streamKey + "jobs"
	if p := e.raw.XPending(ctx, key, "g").Val(); p.Count != 0 {
		t.Fatalf("pending after the loop: %+v", p)
	}
	dl := readStreamDeadLetters(t, e.raw, key+":dead")
	if len(dl) != 1 || dl[0].ID != ids["poison"] || dl[0].Deliveries != 3 || !strings.Contains(dl[0].Error, "poison pill") ||
		string(dl[0].Message) != `"poison"` || dl[0].Stream != "jobs" || dl[0].Group != "g" || dl[0].Consumer != "c1" {
		t.Fatalf("dead letters: %+v", dl)
	}
	if n, _ := attempts.Load("poison"); n.(*atomic.Int32).Load() != 3 {
		t.Fatalf("poison handled %d times, want MaxDeliveries = 3", n.(*atomic.Int32).Load())
	}
	for kind, least := range map[ops.SignalKind]int{
		ops.SignalConsumed: 3, ops.SignalHandlerFailed: 5, ops.SignalRedelivered: 4, ops.SignalReclaimed: 1,
		ops.SignalDeadLettered: 1, ops.SignalConsumerLag: 1,
	} {
		if got := log.count(kind); got < least {
			t.Errorf("%s signals: %d, want at least %d", kind, got, least)
		}
	}
	if s := log.lastOf(ops.SignalDeadLettered); s.Name != "jobs" || s.Group != "g" || s.N != 3 || !ops.HasCode(s.Err, ops.CodeHandlerFailed) {
		t.Errorf("dead-letter signal: %+v", s)
	}
	if s := log.lastOf(ops.SignalHandlerFailed); !ops.HasCode(s.Err, ops.CodeHandlerFailed) || s.Service != "api" {
		t.Errorf("handler-failed signal: %+v", s)
	}
}

func TestConsumeAsDeadLettersUndecodableAtOnce(t *testing.T) {
	log := newStreamSignals(nil)
	e := newStreamEnv(t, func(b *client.Builder) *client.Builder { return b.WithObserver(log) })
	ctx := context.Background()
	bad, _ := e.st.Streams.Append(ctx, "typed", "not a number", streams.AppendOptions{})
	_, _ = e.st.Streams.Append(ctx, "typed", 7, streams.AppendOptions{})
	got := make(chan int, 1)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	result := make(chan error, 1)
	go func() {
		result <- streams.ConsumeAs(cctx, e.st.Streams.Group("g", "c"), "typed", func(ctx context.Context, m streams.Message[int]) error {
			got <- m.Message
			return nil
		}, fastConsume(1, 5))
	}()
	if v := <-got; v != 7 {
		t.Fatalf("got %d", v)
	}
	cancel()
	if err := <-result; err != nil {
		t.Fatal(err)
	}
	dl := readStreamDeadLetters(t, e.raw, streamKey+"typed:dead")
	if len(dl) != 1 || dl[0].ID != bad || dl[0].Deliveries != 1 || !strings.Contains(dl[0].Error, string(ops.CodeMessageInvalid)) {
		t.Fatalf("dead letters: %+v", dl)
	}
	if log.count(ops.SignalMessageInvalid) != 1 {
		t.Fatalf("message-invalid signals: %d", log.count(ops.SignalMessageInvalid))
	}
}

// streamCarrier carries a context value as the trace field.
type streamCarrier struct{}

type streamTraceKey struct{}

func (streamCarrier) Inject(ctx context.Context) string {
	s, _ := ctx.Value(streamTraceKey{}).(string)
	return s
}

func (streamCarrier) Extract(ctx context.Context, carried string) context.Context {
	return context.WithValue(ctx, streamTraceKey{}, carried)
}

func TestStreamEntriesCarryTraceContext(t *testing.T) {
	e := newStreamEnv(t, func(b *client.Builder) *client.Builder { return b.WithTraceCarrier(streamCarrier{}) })
	ctx := context.WithValue(context.Background(), streamTraceKey{}, "trace-1")
	var cmds [][]string
	cmds = e.commands(t, func() {
		if _, err := e.st.Streams.Append(ctx, "traced", map[string]int{"a": 1}, streams.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	})
	wantStreamCommands(t, cmds, []string{"xadd", streamKey + "traced", "*", "data", `{"a":1}`, "trace", "trace-1"})
	entries, _ := e.st.Streams.Range(ctx, "traced", streams.RangeOptions{})
	if len(entries) != 1 || string(entries[0].Message) != `{"a":1}` {
		t.Fatalf("the trace field must not change the message: %+v", entries)
	}
	got := make(chan any, 1)
	cctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	result := make(chan error, 1)
	go func() {
		result <- e.st.Streams.Group("g", "c").Consume(cctx, "traced", func(ctx context.Context, _ streams.Entry) error {
			got <- ctx.Value(streamTraceKey{})
			return nil
		}, fastConsume(1, 3))
	}()
	if v := <-got; v != "trace-1" {
		t.Fatalf("handler ctx carries %v, want the producer's trace-1", v)
	}
	cancel()
	if err := <-result; err != nil {
		t.Fatal(err)
	}
}

func TestCloseStopsConsumersAndBlockingReads(t *testing.T) {
	srv := redistest.Start(t)
	rdb, raw := srv.Client(t), srv.Client(t)
	before := goleak.IgnoreCurrent()
	st, err := client.New().WithService("api").WithAdapter(client.Redis(rdb)).WithStreamConnections(2).Build()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	g := st.Streams.Group("g", "c")
	if err := g.Ensure(ctx, "s", streams.EnsureOptions{}); err != nil {
		t.Fatal(err)
	}
	consumed := make(chan error, 1)
	go func() {
		consumed <- g.Consume(ctx, "s", func(context.Context, streams.Entry) error { return nil },
			streams.ConsumeOptions{Block: time.Minute, LagInterval: -1, ClaimIdle: -1})
	}()
	read := make(chan error, 1)
	go func() {
		_, err := g.Read(ctx, "s", streams.ReadOptions{Block: time.Minute})
		read <- err
	}()
	waitStreamBlocked(t, raw, 2)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	// Close returns after the loop has drained and the dedicated connections are closed.
	if err := goleak.Find(before); err != nil {
		t.Fatalf("goroutines left after Close: %v", err)
	}
	if err := <-consumed; !ops.HasCode(err, ops.CodeClosed) {
		t.Fatalf("Consume after Close: %v, want STORE_CLOSED", err)
	}
	if err := <-read; err == nil || ops.CodeOf(err) == "" {
		t.Fatalf("blocking read after Close: %v, want a coded error", err)
	}
	if _, err := g.Read(ctx, "s", streams.ReadOptions{Block: time.Second}); !ops.HasCode(err, ops.CodeClosed) {
		t.Fatalf("read after Close: %v", err)
	}
}

// TestBlockingReadsAreBounded: with one connection for blocking reads, a second blocking read
// waits for the first, and gives up when its ctx ends.
func TestBlockingReadsAreBounded(t *testing.T) {
	e := newStreamEnv(t, func(b *client.Builder) *client.Builder { return b.WithStreamConnections(1) })
	ctx := context.Background()
	g := e.st.Streams.Group("g", "c")
	if err := g.Ensure(ctx, "s", streams.EnsureOptions{}); err != nil {
		t.Fatal(err)
	}
	first := make(chan error, 1)
	go func() {
		_, err := g.Read(ctx, "s", streams.ReadOptions{Block: time.Minute})
		first <- err
	}()
	waitStreamBlocked(t, e.raw, 1)
	qctx, cancel := context.WithCancel(ctx)
	second := make(chan error, 1)
	go func() {
		_, err := g.Read(qctx, "s", streams.ReadOptions{Block: time.Minute})
		second <- err
	}()
	cancel()
	if err := <-second; !errors.Is(err, ops.ErrCanceled) {
		t.Fatalf("queued read: %v, want canceled", err)
	}
	if _, err := e.st.Streams.Append(ctx, "s", 1, streams.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if n := streamBlockedClients(t, e.raw); n != 0 {
		t.Fatalf("%d clients still blocked: the queued read reached Redis", n)
	}
}

func streamBlockedClients(t *testing.T, raw *redis.Client) int {
	t.Helper()
	return redistest.InfoInt(t, raw, "clients", "blocked_clients")
}

// TestConsumeChaos: 10,000 entries, three consumers in one group, one cancelled mid-batch
// without acking, handlers that fail 5% of the time and one poison entry. At the end every
// entry was handled successfully at least once, every one is acked, the poison entry is in the
// dead-letter stream and the pending list is empty.
func TestConsumeChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos test")
	}
	const total = 10_000
	const poison = 4_242
	srv := redistest.Start(t)
	raw := srv.Client(t)
	ctx := context.Background()
	key := streamKey + "chaos"

	// Produce with a raw pipeline, in the store's wire format.
	pipe := raw.Pipeline()
	for i := range total {
		pipe.XAdd(ctx, &redis.XAddArgs{Stream: key, Values: []any{"data", fmt.Sprintf(`{"n":%d}`, i)}})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}

	var handled [total]atomic.Bool
	var distinct atomic.Int32
	allHandled := make(chan struct{})
	deadLettered := make(chan struct{}, 16)
	observer := ops.ObserverFunc(func(_ context.Context, s ops.Signal) {
		if s.Kind == ops.SignalDeadLettered {
			deadLettered <- struct{}{}
		}
	})
	newStore := func() *client.Store {
		st, err := client.New().WithService("api").WithAdapter(client.Redis(srv.Client(t))).WithObserver(observer).Build()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	}
	type msg struct{ N int }
	work := func(ctx context.Context, m streams.Message[msg]) error {
		switch {
		case m.Message.N == poison:
			return errors.New("poison")
		case rand.IntN(100) < 5:
			return errors.New("random failure")
		}
		if !handled[m.Message.N].Swap(true) && distinct.Add(1) == total-1 {
			close(allHandled)
		}
		return nil
	}
	opts := streams.ConsumeOptions{Concurrency: 8, Batch: 32, Block: 50 * time.Millisecond, ClaimIdle: 200 * time.Millisecond,
		ClaimInterval: 50 * time.Millisecond, MaxDeliveries: 10, LagInterval: 100 * time.Millisecond}

	// The doomed consumer takes entries until all its slots are busy, then its ctx is cancelled
	// while they run: none of them is acked, and the other two must claim them.
	doomedCtx, doom := context.WithCancel(ctx)
	var stuck atomic.Int32
	slotsFull := make(chan struct{})
	doomed := func(ctx context.Context, m streams.Message[msg]) error {
		if n := stuck.Add(1); n == int32(opts.Concurrency) {
			close(slotsFull)
		} else if n > int32(opts.Concurrency) {
			return errors.New("doomed") // read after the cancel raced in
		}
		<-ctx.Done()
		return ctx.Err()
	}
	results := make(chan error, 3)
	go func() {
		results <- streams.ConsumeAs(doomedCtx, newStore().Streams.Group("chaos", "doomed"), "chaos", doomed, opts)
	}()
	<-slotsFull
	doom()
	if err := <-results; err != nil {
		t.Fatalf("doomed consumer: %v", err)
	}
	if p := raw.XPending(ctx, key, "chaos").Val(); p.Consumers["doomed"] < int64(opts.Concurrency) {
		t.Fatalf("the doomed consumer left %d entries pending, want at least %d unacked", p.Consumers["doomed"], opts.Concurrency)
	}

	runCtx, stop := context.WithCancel(ctx)
	for _, name := range []string{"c1", "c2"} {
		go func() {
			results <- streams.ConsumeAs(runCtx, newStore().Streams.Group("chaos", name), "chaos", work, opts)
		}()
	}
	timeout := time.After(50 * time.Second) // a guard, not synchronisation
	for _, ch := range []<-chan struct{}{allHandled, deadLettered} {
		select {
		case <-ch:
		case <-timeout:
			stop()
			t.Fatalf("handled %d of %d distinct entries", distinct.Load(), total-1)
		}
	}
	stop()
	for range 2 {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}

	for i := range total {
		if i != poison && !handled[i].Load() {
			t.Fatalf("entry %d was never handled successfully", i)
		}
	}
	if p := raw.XPending(ctx, key, "chaos").Val(); p.Count != 0 {
		t.Fatalf("pending after the run: %+v", p)
	}
	groups := raw.XInfoGroups(ctx, key).Val()
	if len(groups) != 1 || groups[0].Lag != 0 || groups[0].Pending != 0 {
		t.Fatalf("group after the run: %+v (every entry delivered and acked)", groups)
	}
	dl := readStreamDeadLetters(t, raw, key+":dead")
	if len(dl) == 0 {
		t.Fatal("the poison entry is not in the dead-letter stream")
	}
	for _, d := range dl {
		if string(d.Message) != fmt.Sprintf(`{"n":%d}`, poison) || d.Deliveries < 10 {
			t.Fatalf("dead letter %+v: only the poison entry belongs there, after 10 deliveries", d)
		}
	}
	t.Logf("dead letters: %d; distinct successes: %d", len(dl), distinct.Load())
}

// TestConsumeResumesAfterRedisRestart: the server dies and comes back empty (no persistence);
// the loop reconnects, re-creates its group and consumes what is appended afterwards.
func TestConsumeResumesAfterRedisRestart(t *testing.T) {
	e := newStreamEnv(t, nil)
	ctx := context.Background()
	got := make(chan string, 16)
	cctx, cancel := context.WithCancel(ctx)
	result := make(chan error, 1)
	go func() {
		result <- streams.ConsumeAs(cctx, e.st.Streams.Group("g", "c"), "jobs", func(_ context.Context, m streams.Message[string]) error {
			got <- m.Message
			return nil
		}, fastConsume(2, 5))
	}()
	if _, err := e.st.Streams.Append(ctx, "jobs", "before", streams.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	if m := <-got; m != "before" {
		t.Fatalf("got %q", m)
	}
	e.srv.Restart()
	deadline := time.Now().Add(20 * time.Second)
	for { // the first commands on the old connections fail; append until one gets through
		_, err := e.st.Streams.Append(ctx, "jobs", "after", streams.AppendOptions{})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("append after the restart: %v", err)
		}
	}
	awaitAfter(t, "the restart", got, cancel, result, nil)
}

// TestCancelEndsABlockingRead: go-redis cannot interrupt a read in progress, so the store ends
// a blocking read whose ctx ends with CLIENT UNBLOCK; the connection then serves the next read
// normally (the unblock never reaches it).
func TestCancelEndsABlockingRead(t *testing.T) {
	e := newStreamEnv(t, func(b *client.Builder) *client.Builder { return b.WithStreamConnections(1) })
	ctx := context.Background()
	g := e.st.Streams.Group("g", "c")
	if err := g.Ensure(ctx, "s", streams.EnsureOptions{}); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	read := make(chan error, 1)
	go func() {
		_, err := g.Read(rctx, "s", streams.ReadOptions{Block: time.Hour})
		read <- err
	}()
	waitStreamBlocked(t, e.raw, 1)
	cancel()
	select {
	case err := <-read:
		if !errors.Is(err, ops.ErrCanceled) {
			t.Fatalf("cancelled read: %v, want canceled", err)
		}
	case <-time.After(30 * time.Second): // a guard: without the unblock the read lasts an hour
		t.Fatal("cancelling ctx did not end the blocking read")
	}
	next := make(chan []streams.Entry, 1)
	go func() {
		entries, _ := g.Read(ctx, "s", streams.ReadOptions{Block: time.Hour})
		next <- entries
	}()
	waitStreamBlocked(t, e.raw, 1)
	if _, err := e.st.Streams.Append(ctx, "s", "x", streams.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	if entries := <-next; len(entries) != 1 || string(entries[0].Message) != `"x"` {
		t.Fatalf("the next read on the same connection got %+v", entries)
	}
}
