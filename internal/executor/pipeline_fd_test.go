package executor

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
)

// Issue 22, item 8: in full-duplex pipelining go-redis runs the process hooks on a goroutine of
// their own while the command is streamed and its reply read. A command abandoned (its caller's
// ctx ended) while its hook chain was still ahead of the drop hook must not be written by the
// hook: go-redis's reader may be writing the reply into it. A hook ahead of the drop hook holds
// the chain until the caller has left, which forces that interleaving; -race reports a write.
func TestExactlyOnceFullDuplexAbandonedCommandNoRace(t *testing.T) {
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = rdb.Close() })
	gate := newHoldHook("get", "incr")
	rdb.AddHook(gate) // the direct path (a lone op)
	hookBeforeDrop = gate
	t.Cleanup(func() { hookBeforeDrop = nil })
	e := New(rdb)
	cfg := redis.DefaultAutoPipelineOptions()
	cfg.FullDuplex = true
	if err := e.StartPipeline(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	if !e.pipe.ap.Config().FullDuplex {
		t.Skip("full duplex is not engaged on this client")
	}
	ctx := context.Background()
	// A GET held on the direct path keeps an op in flight, so the INCR goes to the pipeliner.
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = e.Handle(ctx, ops.Op{Kind: ops.KVGet, Key: "k"}) })
	<-gate.entered["get"]
	ictx, cancel := context.WithCancel(ctx)
	incDone := make(chan error, 1)
	go func() {
		_, err := e.Handle(ictx, ops.Op{Kind: ops.CounterIncrement, Key: "n", N: 1})
		incDone <- err
	}()
	<-gate.entered["incr"] // the INCR is streamed; its hook chain is held ahead of the drop hook
	cancel()
	if err := <-incDone; !errors.Is(err, ops.ErrCanceled) {
		t.Fatalf("abandoned INCR: %v, want canceled", err)
	}
	close(gate.held["incr"]) // the chain reaches the drop hook now, beside the reader
	close(gate.held["get"])
	wg.Wait()
	if _, err := e.Handle(ctx, ops.Op{Kind: ops.CounterIncrement, Key: "n", N: 1}); err != nil {
		t.Fatal(err)
	}
	if n, err := srv.Client(t).Get(ctx, "n").Int64(); err != nil || n != 2 {
		t.Fatalf("counter = %d %v, want 2: the abandoned INCR was streamed and ran once", n, err)
	}
}

// holdHook holds the first process-hook chain of each named command until its held channel is
// closed, and closes its entered channel when it arrives. The maps are written before use.
type holdHook struct {
	held, entered map[string]chan struct{}
	mu            sync.Mutex
	fired         map[string]bool
}

func newHoldHook(names ...string) *holdHook {
	h := &holdHook{held: map[string]chan struct{}{}, entered: map[string]chan struct{}{}, fired: map[string]bool{}}
	for _, n := range names {
		h.held[n], h.entered[n] = make(chan struct{}), make(chan struct{})
	}
	return h
}

func (*holdHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *holdHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		name := cmd.Name()
		h.mu.Lock()
		in, ok := h.entered[name]
		first := ok && !h.fired[name]
		h.fired[name] = true
		h.mu.Unlock()
		if first {
			close(in)
			<-h.held[name]
		}
		return next(ctx, cmd)
	}
}

func (*holdHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
