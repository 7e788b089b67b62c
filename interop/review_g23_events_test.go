package interop_test

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/events"
	"github.com/igniter-go/store/internal/faultproxy"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/middleware/schema"
	"github.com/igniter-go/store/ops"
)

// g23NodeEvents is the prelude of a Node publisher of billing:invoice_paid with the original,
// validation off (a Node service with an older or looser zod schema): es is its scoped store,
// channel the raw channel.
const g23NodeEvents = `
  const { z } = require("zod");
  const { IgniterStoreEvents } = require("@igniter-js/store");
  const Billing = IgniterStoreEvents.create("billing").event("invoice_paid", z.any()).build();
  const es = IgniterStore.create().withAdapter(adapter).addEvents(Billing, { validatePublish: false })
    .withService("interop").build().scope("organization", "acme");
  const channel = "igniter:store:interop:organization:acme:events:billing:invoice_paid";
`

// g23GoSubscriber subscribes a Go store (on addr) to billing:invoice_paid with subscribe-side
// validation, recording the seqs delivered, the errors reported and the signals observed.
type g23GoSubscriber struct {
	mu          sync.Mutex
	seqs        []int
	errs        []string
	reconnected atomic.Int64
	dropped     atomic.Int64
	got         chan int
	reconnCh    chan struct{}
	errCh       chan struct{}
}

func newG23GoSubscriber(ctx context.Context, t *testing.T, addr string) *g23GoSubscriber {
	t.Helper()
	g := &g23GoSubscriber{got: make(chan int, 1<<16), reconnCh: make(chan struct{}, 64), errCh: make(chan struct{}, 1024)}
	billing := events.NewNamespace("billing")
	paid := events.Define[invoice](billing, "invoice_paid", schema.MustJSON(invoiceSchema))
	st := scoped(t, newStoreAt(t, addr, func(b *client.Builder) *client.Builder {
		return b.AddEvents(billing, client.Validation{Subscribe: true}).WithoutBreaker().
			WithObserver(ops.ObserverFunc(func(_ context.Context, s ops.Signal) {
				switch s.Kind {
				case ops.SignalReconnected:
					g.reconnected.Add(1)
					select {
					case g.reconnCh <- struct{}{}:
					default:
					}
				case ops.SignalDropped:
					g.dropped.Add(s.N)
				}
			}))
	}))
	sub, err := paid.Subscribe(ctx, st, func(_ context.Context, ev events.Envelope[invoice]) error {
		g.mu.Lock()
		g.seqs = append(g.seqs, ev.Data.Seq)
		g.mu.Unlock()
		g.got <- ev.Data.Seq
		return nil
	}, events.WithBuffer(1<<15), events.OnError(func(_ context.Context, err error) {
		g.mu.Lock()
		g.errs = append(g.errs, err.Error())
		g.mu.Unlock()
		select {
		case g.errCh <- struct{}{}:
		default:
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	return g
}

// TestReviewG23EventsHostileFromNode: a Node service publishes, on the channel of an event Go
// subscribes to with validation, messages Go must reject (schema violations through the
// original, raw non-JSON, non-envelopes, a wrong type, oversize, deeply nested, invalid UTF-8),
// each followed by a valid invoice. The Go subscriber must survive, report the hostile ones,
// and deliver every valid one.
func TestReviewG23EventsHostileFromNode(t *testing.T) {
	bin := needNode(t)
	srv := redistest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	g := newG23GoSubscriber(ctx, t, srv.Addr)

	const hostile = 11
	valid := make([]invoice, hostile+1)
	for i := range valid {
		valid[i] = invoicePayload("node", i)
	}
	node := startG23Node(t, bin, srv.Addr, g23NodeEvents+`
  const env = (type, data) => JSON.stringify({ type, data, timestamp: new Date().toISOString() });
  const bad = [
    () => es.events.publish("billing:invoice_paid", { ...args.valid[0], seq: "x" }),         // schema violation
    () => redis.publish(channel, "not json {"),
    () => redis.publish(channel, "null"),
    () => redis.publish(channel, "[1,2,3]"),
    () => redis.publish(channel, env("billing:invoice_refunded", args.valid[0])),          // wrong type
    () => redis.publish(channel, JSON.stringify({ type: 7, data: args.valid[0], timestamp: "x" })),
    () => es.events.publish("billing:invoice_paid", { ...args.valid[0], note: "x".repeat(2 << 20) }), // oversize
    () => redis.publish(channel, '{"type":"billing:invoice_paid","timestamp":"t","data":' + "[".repeat(9000) + "]".repeat(9000) + "}"),
    () => redis.publish(channel, '{"type":"billing:invoice_paid","timestamp":"t","data":' + "[".repeat(200000) + "]".repeat(200000) + "}"),
    () => redis.publish(channel, Buffer.concat([Buffer.from('{"type":"billing:invoice_paid","timestamp":"t","data":{"invoiceId":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}}')])),
    () => redis.publish(channel, env("billing:invoice_paid", { ...args.valid[0], seq: 1e300 })),
  ];
  for (let i = 0; i < bad.length; i++) {
    await es.events.publish("billing:invoice_paid", args.valid[i]);
    await bad[i]();
  }
  await es.events.publish("billing:invoice_paid", args.valid[bad.length]);
  out({ published: bad.length + 1 });
`, map[string]any{"valid": valid})
	var res struct{ Published int }
	node.next(ctx, t, &res)

	for len(g.snapshot()) < len(valid) {
		select {
		case <-g.got:
		case <-time.After(5 * time.Second):
			g.mu.Lock()
			t.Fatalf("the Go subscriber delivered %v of %d valid invoices; errors reported: %d %q",
				g.seqs, len(valid), len(g.errs), g.errs)
			g.mu.Unlock()
		}
	}
	seqs := g.snapshot()
	slices.Sort(seqs)
	for i, s := range seqs {
		if s != i {
			t.Errorf("delivered seqs %v, want 0…%d once each", seqs, len(valid)-1)
			break
		}
	}
	// OnError runs on a goroutine of its own: wait for the reports (every hostile message must
	// be reported; "null" and "[1,2,3]" are legacy messages, validated as data and rejected).
	reported := 0
	for reported < hostile {
		select {
		case <-g.errCh:
			reported++
			continue
		case <-time.After(5 * time.Second):
		}
		break
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	t.Logf("%d hostile messages, %d errors reported", hostile, len(g.errs))
	if len(g.errs) != hostile {
		t.Errorf("%d of %d hostile messages were reported: %q", len(g.errs), hostile, g.errs)
	}
}

// waitQuiet returns once no event has arrived for 2 s: after the publisher has said it is done,
// events still in flight arrive in that time, and those lost in an outage never will (there is
// no count to wait for, since an outage may lose some).
func (g *g23GoSubscriber) waitQuiet() {
	for {
		select {
		case <-g.got:
			continue
		case <-time.After(2 * time.Second):
		}
		return
	}
}

func (g *g23GoSubscriber) snapshot() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.seqs)
}

// TestReviewG23EventsGoReconnect: while Node publishes at a steady rate, the Go subscriber's
// connections are killed. "No event lost while both are connected": every invoice lost must be
// in the one outage window (a contiguous run of seqs), and the store must report the outage
// (SignalReconnected); nothing may be lost after it, and nothing dropped from buffers.
func TestReviewG23EventsGoReconnect(t *testing.T) {
	bin := needNode(t)
	srv := redistest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p := faultproxy.Start(t, srv.Addr)
	g := newG23GoSubscriber(ctx, t, p.Addr)

	const total = 6000 // at about 2,000 a second
	node := startG23Node(t, bin, srv.Addr, g23NodeEvents+`
  const base = args.valid;
  const t0 = Date.now();
  for (let seq = 0; seq < args.total; seq++) {
    await es.events.publish("billing:invoice_paid", { ...base, seq, invoiceId: "inv_node_" + seq });
    if (seq % 20 === 19) {
      const due = t0 + (seq + 1) / 2; // 2 per ms
      const now = Date.now();
      if (due > now) await sleep(due - now);
    }
  }
  out({ published: args.total });
`, map[string]any{"valid": invoicePayload("node", 1), "total": total})

	// Kill once a third has arrived.
	for len(g.snapshot()) < total/3 {
		select {
		case <-g.got:
		case <-ctx.Done():
			t.Fatal("no events")
		}
	}
	killed := p.KillConnections()
	var res struct{ Published int }
	node.next(ctx, t, &res)
	g.waitQuiet() // the tail
	seqs := g.snapshot()
	slices.Sort(seqs)
	var lost []int
	j := 0
	for s := range total {
		if j < len(seqs) && seqs[j] == s {
			j++
			continue
		}
		lost = append(lost, s)
	}
	runs := 0
	for i := range lost {
		if i == 0 || lost[i] != lost[i-1]+1 {
			runs++
		}
	}
	t.Logf("killed %d connections; delivered %d of %d; lost %d in %d run(s); reconnected signals %d; dropped %d",
		killed, len(seqs), total, len(lost), runs, g.reconnected.Load(), g.dropped.Load())
	if killed == 0 {
		t.Fatal("no connection killed: the attack did not run")
	}
	if g.reconnected.Load() == 0 {
		t.Errorf("the Go subscriber's connection was killed (%d events lost) but the store reported no reconnection", len(lost))
	}
	if runs > 1 {
		t.Errorf("events lost outside one outage window: %d runs: %v", runs, head(lost, 40))
	}
	if len(lost) > 0 && lost[len(lost)-1] == total-1 {
		t.Errorf("the last event was lost: the subscription did not resume")
	}
	if d := g.dropped.Load(); d != 0 {
		t.Errorf("%d events dropped from buffers", d)
	}
}

func head(v []int, n int) []int {
	if len(v) > n {
		return v[:n]
	}
	return v
}

// TestReviewG23EventsRepeatedKills: the Go subscriber's connections are killed five times while
// Node publishes; each outage must be reported (one SignalReconnected per kill, each awaited
// before the next kill), losses must fall in at most one run per kill, and the stream of events
// must resume after the last.
func TestReviewG23EventsRepeatedKills(t *testing.T) {
	bin := needNode(t)
	srv := redistest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p := faultproxy.Start(t, srv.Addr)
	g := newG23GoSubscriber(ctx, t, p.Addr)
	const (
		total = 8000
		kills = 5
	)
	node := startG23Node(t, bin, srv.Addr, g23NodeEvents+`
  const t0 = Date.now();
  for (let seq = 0; seq < args.total; seq++) {
    await es.events.publish("billing:invoice_paid", { ...args.valid, seq, invoiceId: "inv_node_" + seq });
    if (seq % 20 === 19) {
      const due = t0 + (seq + 1) / 2;
      const now = Date.now();
      if (due > now) await sleep(due - now);
    }
  }
  out({ published: args.total });
`, map[string]any{"valid": invoicePayload("node", 1), "total": total})

	received := 0
	for k := range kills {
		for received < (k+1)*total/(kills+2) {
			select {
			case <-g.got:
				received++
			case <-ctx.Done():
				t.Fatalf("stalled after kill %d at %d events", k, received)
			}
		}
		if n := p.KillConnections(); n == 0 {
			t.Fatalf("kill %d closed nothing", k)
		}
		select {
		case <-g.reconnCh:
		case <-time.After(10 * time.Second):
			t.Fatalf("kill %d: no reconnection reported within 10s", k+1)
		}
	}
	var res struct{ Published int }
	node.next(ctx, t, &res)
	g.waitQuiet() // the tail
	seqs := g.snapshot()
	slices.Sort(seqs)
	var lost []int
	j := 0
	for s := range total {
		for j < len(seqs) && seqs[j] < s {
			j++
		}
		if j < len(seqs) && seqs[j] == s {
			continue
		}
		lost = append(lost, s)
	}
	runs := 0
	for i := range lost {
		if i == 0 || lost[i] != lost[i-1]+1 {
			runs++
		}
	}
	dups := len(seqs) - len(slices.Compact(slices.Clone(seqs)))
	t.Logf("%d kills; delivered %d of %d (%d duplicates); lost %d in %d run(s); reconnected signals %d; dropped %d",
		kills, len(seqs), total, dups, len(lost), runs, g.reconnected.Load(), g.dropped.Load())
	if runs > kills {
		t.Errorf("losses in %d runs for %d outages: %v", runs, kills, head(lost, 40))
	}
	if dups > 0 {
		t.Errorf("%d events delivered twice", dups)
	}
	if len(lost) > 0 && lost[len(lost)-1] == total-1 {
		t.Error("the last event was lost: the subscription did not resume")
	}
	if d := g.dropped.Load(); d != 0 {
		t.Errorf("%d events dropped from buffers", d)
	}
}
