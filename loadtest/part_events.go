package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/events"
	"github.com/igniter-go/store/loadtest/internal/drive"
)

// tick is the payload of the events and streams scenarios: the send time, for end-to-end
// latency, and padding to -value-size.
type tick struct {
	Sent int64  `json:"sent"` // unix ns
	Pad  string `json:"pad,omitempty"`
}

const eventName = "load:tick"

// eventsPart publishes load:tick events; -subscribers subscriptions per tenant receive each
// one and record publish→receive latency as events.deliver.
type eventsPart struct {
	subs      []events.Subscription
	pad       string
	published atomic.Int64 // measured publishes
	delivered atomic.Int64 // measured deliveries
}

func (p *eventsPart) setup(ctx context.Context, e *env) error {
	p.pad = strings.Repeat("x", max(e.cfg.valueSize-40, 0))
	n := 0
	for _, st := range e.st.tenants {
		for range e.cfg.subscribers {
			shard := n
			n++
			sub, err := st.Events.Subscribe(ctx, eventName, func(_ context.Context, m events.Message) error {
				now := time.Now().UnixNano()
				var t tick
				if err := json.Unmarshal(m.Data, &t); err != nil {
					return err
				}
				if e.counts(t.Sent) {
					p.delivered.Add(1)
					e.set.Record(shard, "events.deliver", time.Duration(now-t.Sent))
				}
				return nil
			}, events.WithBuffer(4096))
			if err != nil {
				p.stop()
				return fmt.Errorf("subscribe: %w", err)
			}
			p.subs = append(p.subs, sub)
		}
	}
	return nil
}

// stop closes the subscriptions; they keep their drop counts.
func (p *eventsPart) stop() {
	for _, s := range p.subs {
		_ = s.Close()
	}
}

func (p *eventsPart) dropped() uint64 {
	var d uint64
	for _, s := range p.subs {
		d += s.Dropped()
	}
	return d
}

func (p *eventsPart) notes(e *env, elapsed time.Duration) []string {
	pub, del := p.published.Load(), p.delivered.Load()
	want := pub * int64(e.cfg.subscribers)
	line := fmt.Sprintf("events: %d published, %d delivered (%.0f/s) of %d expected (published × %d subscribers), %d dropped by full buffers",
		pub, del, float64(del)/elapsed.Seconds(), want, e.cfg.subscribers, p.dropped())
	return []string{line}
}

func (p *eventsPart) publish(ctx context.Context, e *env, w *drive.Worker, st *client.Store) (string, error) {
	now := time.Now().UnixNano()
	err := st.Events.Publish(ctx, eventName, tick{Sent: now, Pad: p.pad})
	if err == nil && e.counts(now) {
		p.published.Add(1)
	}
	return "events.publish", err
}
