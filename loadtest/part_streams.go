package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/loadtest/internal/drive"
	"github.com/igniter-go/store/streams"
)

const (
	streamName = "load"
	groupName  = "loadtest"
	streamMax  = 100_000 // XADD MAXLEN ~: the stream stays bounded however long the run
)

// streamsPart appends tick entries; per tenant a consumer group of -consumers consumers
// consumes and acks them, recording end-to-end latency as streams.consume. Lag is appended
// minus consumed, sampled every second.
type streamsPart struct {
	pad      string
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	errMu    sync.Mutex
	loopErr  error
	appended atomic.Int64 // measured appends
	consumed atomic.Int64 // measured consumptions
	lagMu    sync.Mutex
	lag      []int64 // one sample per second
}

func (p *streamsPart) setup(ctx context.Context, e *env) error {
	p.pad = strings.Repeat("x", max(e.cfg.valueSize-40, 0))
	for _, st := range e.st.tenants {
		// A new group reads from now ("$"); an existing one keeps its position.
		if err := st.Streams.Group(groupName, "setup").Ensure(ctx, streamName, streams.EnsureOptions{StartID: "$"}); err != nil {
			return fmt.Errorf("ensure the consumer group: %w", err)
		}
	}
	loopCtx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	n := 0
	for _, st := range e.st.tenants {
		for c := range e.cfg.consumers {
			shard := n
			n++
			g := st.Streams.Group(groupName, "c"+itoa(c))
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				err := g.Consume(loopCtx, streamName, func(_ context.Context, entry streams.Entry) error {
					now := time.Now().UnixNano()
					var t tick
					if err := entry.Decode(&t); err != nil {
						return err
					}
					if e.counts(t.Sent) {
						p.consumed.Add(1)
						e.set.Record(shard, "streams.consume", time.Duration(now-t.Sent))
					}
					return nil
				}, streams.ConsumeOptions{Block: 200 * time.Millisecond, LagInterval: time.Second, Batch: 64})
				if err != nil && loopCtx.Err() == nil {
					p.errMu.Lock()
					p.loopErr = errors.Join(p.loopErr, err)
					p.errMu.Unlock()
				}
			}()
		}
	}
	return nil
}

func (p *streamsPart) stop() {
	if p.cancel != nil {
		p.cancel()
	}
	p.wg.Wait()
}

// sample records the lag once a second.
func (p *streamsPart) sample() {
	p.lagMu.Lock()
	p.lag = append(p.lag, max(p.appended.Load()-p.consumed.Load(), 0))
	p.lagMu.Unlock()
}

func (p *streamsPart) lagSeries() []int64 {
	p.lagMu.Lock()
	defer p.lagMu.Unlock()
	return append([]int64(nil), p.lag...)
}

func (p *streamsPart) notes(e *env, elapsed time.Duration) []string {
	a, c := p.appended.Load(), p.consumed.Load()
	var peak int64
	for _, l := range p.lagSeries() {
		peak = max(peak, l)
	}
	lines := []string{fmt.Sprintf("streams: %d appended, %d consumed (%.0f/s) by %d consumers per tenant; lag (appended − consumed) peak %d, at the end %d",
		a, c, float64(c)/elapsed.Seconds(), e.cfg.consumers, peak, max(a-c, 0))}
	p.errMu.Lock()
	defer p.errMu.Unlock()
	if p.loopErr != nil {
		lines = append(lines, "streams: a consume loop ended early: "+p.loopErr.Error())
	}
	return lines
}

func (p *streamsPart) append(ctx context.Context, e *env, _ *drive.Worker, st *client.Store) (string, error) {
	now := time.Now().UnixNano()
	_, err := st.Streams.Append(ctx, streamName, tick{Sent: now, Pad: p.pad}, streams.AppendOptions{MaxLen: streamMax, Approximate: true})
	if err == nil && e.counts(now) {
		p.appended.Add(1)
	}
	return "streams.append", err
}
