// Command stream-processing consumes a chat stream with a consumer group, sends a message its
// handler cannot process to the dead-letter stream, and redrives it once the handler is fixed.
//
// The original's recipe reads 20 entries, processes and acks each. An entry whose processing
// throws is never acked and never read again (it sits in the pending list forever), and there is
// no dead-letter stream or way back. Here the consume loop redelivers failed entries, moves an
// entry that keeps failing to "<stream>:dead" with its error, and Streams.Redrive moves it back
// exactly once, keeping its origin id and error history.
//
//	go run ./examples/stream-processing              # embedded miniredis
//	go run ./examples/stream-processing -redis ADDR  # a real Redis
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/examples/internal/harness"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/streams"
)

func main() { harness.Main(run) }

// ChatMessage is one entry of the chat stream.
type ChatMessage struct {
	From string `json:"from"`
	Text string `json:"text"`
}

const room = "chat:room:1"

func run(ctx context.Context, env *harness.Env, out io.Writer) error {
	deadLettered := make(chan ops.Signal, 8)
	obs := ops.ObserverFunc(func(_ context.Context, s ops.Signal) {
		if s.Kind == ops.SignalDeadLettered {
			deadLettered <- s
		}
	})
	st, err := env.Store(client.New().WithService("chat").WithObserver(obs))
	if err != nil {
		return err
	}
	for _, m := range []ChatMessage{{"alice", "hi"}, {"bob", "hello"}, {"carol", "🦄 unicode breaks the old filter"}, {"alice", "bye"}} {
		if _, err := st.Streams.Append(ctx, room, m, streams.AppendOptions{MaxLen: 10_000, Approximate: true}); err != nil {
			return err
		}
	}

	var fixed atomic.Bool
	var mu sync.Mutex
	handled := map[string]int{}
	var redriven []streams.Message[ChatMessage]
	done := make(chan struct{}, 8)
	moderate := func(ctx context.Context, m streams.Message[ChatMessage]) error {
		if !fixed.Load() && strings.ContainsRune(m.Message.Text, '🦄') {
			return errors.New("moderation: unsupported character")
		}
		mu.Lock()
		handled[m.Message.Text]++
		if m.Fields[streams.RedriveOriginField] != "" {
			redriven = append(redriven, m)
		}
		mu.Unlock()
		done <- struct{}{}
		return nil
	}
	opts := streams.ConsumeOptions{MaxDeliveries: 3, ClaimIdle: 50 * time.Millisecond, Block: 100 * time.Millisecond, LagInterval: -1}
	workers := st.Streams.Group("moderation", "worker-1")

	// 1. The buggy handler: three messages pass, one fails three times and is dead-lettered.
	if err := consumeUntil(ctx, workers, moderate, opts, func() error {
		for range 3 {
			if _, err := harness.Next(ctx, done); err != nil {
				return err
			}
		}
		_, err := harness.Next(ctx, deadLettered)
		return err
	}); err != nil {
		return err
	}
	dead, err := streams.RangeAs[streams.DeadLetter](ctx, st.Streams, room+":dead", streams.RangeOptions{})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "handled 3, dead-lettered %d: %q after %d deliveries\n", len(dead), dead[0].Message.Error, dead[0].Message.Deliveries)

	// 2. The fixed handler, and a redrive: the message is handled once, and leaves :dead.
	fixed.Store(true)
	if err := consumeUntil(ctx, workers, moderate, opts, func() error {
		res, err := st.Streams.Redrive(ctx, room, streams.RedriveOptions{})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "redrive moved %d\n", res.Moved)
		_, err = harness.Next(ctx, done)
		return err
	}); err != nil {
		return err
	}
	// A second redrive finds nothing: each dead letter moves once.
	res, err := st.Streams.Redrive(ctx, room, streams.RedriveOptions{})
	if err != nil {
		return err
	}
	left, err := st.Streams.Range(ctx, room+":dead", streams.RangeOptions{})
	if err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	m := redriven[0]
	h := streams.RedriveHistory(streams.Entry{Fields: m.Fields})
	fmt.Fprintf(out, "redriven message handled %d time(s); origin id kept: %v; history: %q\n",
		handled[m.Message.Text], m.Fields[streams.RedriveOriginField] == dead[0].Message.ID, h[0].Error)
	fmt.Fprintf(out, "second redrive moved %d; dead letters left: %d\n", res.Moved, len(left))
	return nil
}

// consumeUntil runs the consume loop until until returns, then stops it.
func consumeUntil(ctx context.Context, g streams.Group, h func(context.Context, streams.Message[ChatMessage]) error, opts streams.ConsumeOptions, until func() error) error {
	cctx, stop := context.WithCancel(ctx)
	loop := make(chan error, 1)
	go func() { loop <- streams.ConsumeAs(cctx, g, room, h, opts) }()
	err := until()
	stop()
	return errors.Join(err, <-loop)
}
