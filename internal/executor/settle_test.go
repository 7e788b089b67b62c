package executor

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/internal/faultproxy"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
)

// settleLog is a Settle that records what it is told, in order.
type settleLog struct {
	op      ops.Op
	mu      sync.Mutex
	events  []string
	settled chan struct{} // closed at Settled
}

func newSettleLog(op ops.Op) *settleLog { return &settleLog{op: op, settled: make(chan struct{})} }

func (l *settleLog) Op() ops.Op { return l.op }

func (l *settleLog) add(e string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *settleLog) Failed(err error) { l.add("failed " + string(ops.CodeOf(err))) }
func (l *settleLog) Left()            { l.add("left") }
func (l *settleLog) Settled(sent bool, err error) {
	switch {
	case !sent:
		l.add("settled: not sent")
	case err == nil:
		l.add("settled: acknowledged")
	default:
		l.add("settled: " + err.Error())
	}
	close(l.settled)
}

func (l *settleLog) wait(t *testing.T) []string {
	t.Helper()
	select {
	case <-l.settled:
	case <-time.After(10 * time.Second):
		t.Fatal("never settled")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

// A Settle in a pipelined op's ctx hears when the op's caller left a command (Left, before the
// call's Failed) and what became of it (Settled): written once the connection its batch waits for
// is dialled, after its caller left (acknowledged), or dropped unwritten when it was queued
// behind that batch. That is what lets the store end a kv write for its watchers only once
// nothing of it can reach Redis.
func TestSettleHearsWhatBecameOfACommandItsCallerLeft(t *testing.T) {
	srv := redistest.Start(t)
	var gate faultproxy.DialGate
	dialing, release := gate.Arm() // the first dial: the lane's connection
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, ContextTimeoutEnabled: true, Dialer: gate.Dial})
	t.Cleanup(func() { _ = rdb.Close() })
	hold := newHoldHook("get")
	rdb.AddHook(hold) // the direct path: a GET held before it takes a connection
	e := New(rdb)
	if err := e.StartPipeline(redis.DefaultAutoPipelineOptions()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		release()
		_ = e.Close()
	})
	ctx := context.Background()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { _, _ = e.Handle(ctx, ops.Op{Kind: ops.KVGet, Key: "g"}) }) // keeps an op in flight
	<-hold.entered["get"]
	defer close(hold.held["get"])

	setA, setB := ops.Op{Kind: ops.KVSet, Key: "a", Value: []byte("1")}, ops.Op{Kind: ops.KVSet, Key: "b", Value: []byte("1")}
	written, dropped := newSettleLog(setA), newSettleLog(setB)
	ctxA, cancelA := context.WithCancel(WithSettle(ctx, written))
	ctxB, cancelB := context.WithCancel(WithSettle(ctx, dropped))
	errA, errB := make(chan error, 1), make(chan error, 1)
	go func() { _, err := e.Handle(ctxA, setA); errA <- err }()
	<-dialing // a's batch passed the drop hook and waits for its connection
	go func() { _, err := e.Handle(ctxB, setB); errB <- err }()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		if _, n, _ := e.PipelineState(); n == 3 { // the GET, a's batch, b queued behind it
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("b never queued")
		}
	}
	cancelA()
	cancelB()
	for name, c := range map[string]chan error{"a": errA, "b": errB} {
		if err := <-c; !ops.HasCode(err, ops.CodeCanceled) {
			t.Fatalf("%s: %v, want STORE_CANCELED", name, err)
		}
	}
	// Another operation under a's ctx (a middleware's own store call) is not a's: not reported.
	if _, err := e.Handle(ctxA, ops.Op{Kind: ops.KVGet, Key: "a"}); !ops.HasCode(err, ops.CodeCanceled) {
		t.Fatalf("a GET under a done ctx: %v", err)
	}
	release()
	for name, c := range map[string]struct {
		log  *settleLog
		want []string
	}{
		"a": {written, []string{"left", "failed STORE_CANCELED", "settled: acknowledged"}},
		"b": {dropped, []string{"left", "failed STORE_CANCELED", "settled: not sent"}},
	} {
		if got := c.log.wait(t); !slices.Equal(got, c.want) {
			t.Errorf("%s told %q, want %q", name, got, c.want)
		}
	}
	plain := srv.Client(t)
	if a, b := plain.Exists(ctx, "a").Val(), plain.Exists(ctx, "b").Val(); a != 1 || b != 0 {
		t.Fatalf("Redis holds a: %d, b: %d; want a only", a, b)
	}
}
