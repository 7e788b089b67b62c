package streams_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/streams"
)

// streamOpLog records the stream Ops that pass through the chain.
type streamOpLog struct {
	mu  sync.Mutex
	ops []ops.Op
}

func (l *streamOpLog) middleware(next ops.Handler) ops.Handler {
	return func(ctx context.Context, op ops.Op) (ops.Result, error) {
		res, err := next(ctx, op)
		if op.Kind.Group() == "stream" {
			l.mu.Lock()
			l.ops = append(l.ops, op)
			l.mu.Unlock()
		}
		return res, err
	}
}

func (l *streamOpLog) kinds() map[ops.Kind]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[ops.Kind]int{}
	for _, op := range l.ops {
		out[op.Kind]++
	}
	return out
}

// TestStreamOpsFlowThroughTheChain: every stream call, including the consume loop's claims,
// pending lookups and acks, is an Op the middleware sees, named by the stream (never by its key).
// (Bad input is rejected before the chain's user middleware; TestStreamNamesAreRequiredBeforeAnyCall
// covers it.)
func TestStreamOpsFlowThroughTheChain(t *testing.T) {
	var log streamOpLog
	e := newStreamEnv(t, func(b *client.Builder) *client.Builder { return b.Use(log.middleware) })
	ctx := context.Background()
	g := e.st.Streams.Group("g", "c")
	_, _ = e.st.Streams.Append(ctx, "orders", 1, streams.AppendOptions{})
	_, _ = e.st.Streams.Range(ctx, "orders", streams.RangeOptions{})
	_ = g.Ensure(ctx, "orders", streams.EnsureOptions{})
	entries, _ := g.Read(ctx, "orders", streams.ReadOptions{})
	_, _ = g.Ack(ctx, "orders", entries[0].ID)
	_, _ = g.Lag(ctx, "orders")

	// A consume loop that fails once, so the entry is claimed (XAUTOCLAIM), its deliveries looked
	// up (XPENDING) and acked.
	_, _ = e.st.Streams.Append(ctx, "orders", 2, streams.AppendOptions{})
	cctx, cancel := context.WithCancel(ctx)
	result := make(chan error, 1)
	failed := false
	go func() {
		result <- g.Consume(cctx, "orders", func(context.Context, streams.Entry) error {
			if !failed {
				failed = true
				return context.DeadlineExceeded
			}
			cancel()
			return nil
		}, streams.ConsumeOptions{Block: 10 * time.Millisecond, ClaimIdle: 20 * time.Millisecond, ClaimInterval: 10 * time.Millisecond})
	}()
	if err := <-result; err != nil {
		t.Fatal(err)
	}

	got := log.kinds()
	for _, k := range []ops.Kind{ops.StreamAppend, ops.StreamRange, ops.StreamEnsure, ops.StreamRead, ops.StreamAck, ops.StreamClaim, ops.StreamPending} {
		if got[k] == 0 {
			t.Errorf("no %s op passed through the chain: %v", k, got)
		}
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	for _, op := range log.ops {
		if op.Name != "orders" && op.Name != "orders:dead" || op.Key != streamKey+op.Name || op.Stream == nil {
			t.Errorf("op %s: Name %q Key %q Stream %v", op.Kind, op.Name, op.Key, op.Stream)
		}
	}
}
