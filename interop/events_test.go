package interop_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/events"
	"github.com/igniter-go/store/internal/codec"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/middleware/schema"
)

// TestEventsBothWays publishes typed events between the languages on one tenant's channels:
// Node publishes billing:invoice_paid (validated by zod) to two Go subscribers (validated by
// JSON Schema on receive), and Go publishes billing:invoice_refunded to a Node subscriber
// (validated by zod on receive: an invalid one would end the process), both at about 10,000 a
// second for 3 seconds, at once. Nothing may be lost while both are connected, and a plain
// PSUBSCRIBE watches the wire: every envelope must be, timestamp aside, the bytes the other
// language writes for the same event. Before that, both languages publish the same samples
// (testdata/samples.json: escapes, unicode, numbers, nesting, non-objects), whose envelopes must
// be byte-identical but for the timestamp.
func TestEventsBothWays(t *testing.T) {
	bin := needNode(t)
	srv := redistest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const (
		rate     = 10_000 // events per second, each way
		duration = 3 * time.Second
		n        = int(rate * duration / time.Second) // at most, each way: a slow machine publishes fewer
		sample   = "billing:sample"                   // in the registered namespace, but no schema: not validated
	)
	samplesJSON, err := os.ReadFile("testdata/samples.json")
	if err != nil {
		t.Fatal(err)
	}
	var samples []any
	if err := json.Unmarshal(samplesJSON, &samples); err != nil {
		t.Fatal(err)
	}
	k := len(samples)

	billing := events.NewNamespace("billing")
	paid := events.Define[invoice](billing, "invoice_paid", schema.MustJSON(invoiceSchema))
	refunded := events.Define[invoice](billing, "invoice_refunded", schema.MustJSON(invoiceSchema))
	withEvents := func(b *client.Builder) *client.Builder {
		return b.AddEvents(billing, client.Validation{Subscribe: true})
	}
	pub := scoped(t, newStore(t, srv, withEvents))

	// The wire, as a plain client sees it.
	wire := watchWire(ctx, t, srv.Client(t), "igniter:store:"+service+":organization:acme:events:billing:*")

	// Two Go subscribers of invoice_paid, each on a store of its own.
	goSubs := make([]*received, 2)
	for i := range goSubs {
		r := newReceived(n)
		goSubs[i] = r
		st := scoped(t, newStore(t, srv, withEvents))
		sub, err := paid.Subscribe(ctx, st, func(_ context.Context, ev events.Envelope[invoice]) error {
			r.add(ev.Data.Seq, checkGoEnvelope(ev))
			return nil
		}, events.WithBuffer(2*n), events.OnError(func(_ context.Context, err error) { r.fail(err.Error()) }))
		if err != nil {
			t.Fatal(err)
		}
		r.sub = sub
		t.Cleanup(func() { _ = sub.Close() })
	}

	// A Node subscriber of invoice_refunded, a Node publisher.
	nsub := startNode(t, bin, srv.Addr, "subscriber")
	npub := startNode(t, bin, srv.Addr, "publisher")
	nodeRecv := newReceived(n)
	subscribed := make(chan struct{})
	nsubCall := nsub.start(map[string]any{"cmd": "subscribe", "event": "billing:invoice_refunded", "scope": nodeScope}, func(ev json.RawMessage) {
		var e struct {
			Subscribed bool              `json:"subscribed"`
			Ev         []json.RawMessage `json:"ev"`
		}
		if err := json.Unmarshal(ev, &e); err != nil {
			nodeRecv.fail(err.Error())
			return
		}
		if e.Subscribed {
			close(subscribed)
		}
		for _, env := range e.Ev {
			seq, problem := checkNodeEnvelope(env)
			nodeRecv.add(seq, problem)
		}
	})
	select {
	case <-subscribed:
	case <-nsubCall.done:
		t.Fatalf("the Node subscriber ended: %v", nsubCall.err)
	case <-ctx.Done():
		t.Fatal("the Node subscriber did not subscribe")
	}

	// 1. The same samples from both languages, Node first, then Go: byte-identical envelopes.
	npub.mustCall(ctx, map[string]any{"cmd": "publish", "event": sample, "scope": nodeScope, "samples": json.RawMessage(samplesJSON)})
	wire.waitFor(ctx, t, k)
	for _, v := range samples {
		if err := pub.Events.Publish(ctx, sample, v); err != nil {
			t.Fatal(err)
		}
	}
	wire.waitFor(ctx, t, 2*k)
	msgs := wire.snapshot()
	for i := range k {
		nodeMsg, goMsg := msgs[i], msgs[k+i]
		if nodeMsg.Channel != goMsg.Channel || redistest.MaskTimestamps(nodeMsg.Payload) != redistest.MaskTimestamps(goMsg.Payload) ||
			redistest.MaskTimestamps(goMsg.Payload) == goMsg.Payload {
			t.Errorf("sample %d: the envelopes differ beyond the timestamp:\nnode %s %s\ngo   %s %s", i, nodeMsg.Channel, nodeMsg.Payload, goMsg.Channel, goMsg.Payload)
		}
	}

	// 2. Both ways at once, at rate.
	cpu0 := cpuTime()
	start := time.Now()
	npubCall := npub.start(map[string]any{"cmd": "publishRate", "event": "billing:invoice_paid", "from": "node", "rate": rate, "count": n,
		"ms": duration.Milliseconds(), "scope": nodeScope}, nil)
	// Go publishes as the Node publisher does, and as a service does at that rate, many at once:
	// every 10 ms a pacer hands what the rate owes by then (at most 50 ms worth) to 128
	// goroutines and waits until those are published.
	goPublished := make([]bool, n)
	type job struct {
		seq  int
		done *sync.WaitGroup
	}
	jobs := make(chan job)
	var publishers sync.WaitGroup
	for range 128 {
		publishers.Go(func() {
			for j := range jobs {
				if err := refunded.Publish(ctx, pub, invoicePayload("go", j.seq)); err != nil {
					t.Errorf("go publish %d: %v", j.seq, err)
				} else {
					goPublished[j.seq] = true // each seq has one writer; read after Wait
				}
				j.done.Done()
			}
		})
	}
	for sent := 0; sent < n && time.Since(start) < duration; {
		owed := min(n-sent, int(time.Since(start)*rate/time.Second)+1-sent, rate/20)
		var tick sync.WaitGroup
		tick.Add(max(owed, 0))
		for range max(owed, 0) {
			jobs <- job{sent, &tick}
			sent++
		}
		tick.Wait()
		time.Sleep(10 * time.Millisecond) // pacing, not synchronisation
	}
	close(jobs)
	publishers.Wait()
	goPublishTook := time.Since(start)
	goCount := 0
	for _, p := range goPublished {
		if p {
			goCount++
		}
	}
	nodeRecv.expect(goPublished)
	var np struct {
		Published int     `json:"published"`
		MS        float64 `json:"ms"`
		CPUUs     float64 `json:"cpuUs"`
	}
	res, err := npubCall.wait(ctx)
	if err == nil {
		err = json.Unmarshal(res, &np)
	}
	if err != nil {
		t.Fatalf("node publisher: %v", err)
	}
	nodePublished := make([]bool, n)
	for seq := range np.Published {
		nodePublished[seq] = true
	}
	for _, r := range goSubs {
		r.expect(nodePublished)
	}
	// Wait for every delivery. Pub/sub has no signal for a lost message: a subscriber that
	// stops making progress for stall before it has them all has lost some (verify says which).
	for _, r := range append([]*received{nodeRecv}, goSubs...) {
		r.wait(ctx)
	}
	goCPU := cpuTime() - cpu0 // before the checks below
	wire.waitFor(ctx, t, 2*k+np.Published+goCount)
	var ns struct {
		Received int     `json:"received"`
		CPUUs    float64 `json:"cpuUs"`
	}
	res, err = nsub.stop(ctx, nsubCall)
	if err == nil {
		err = json.Unmarshal(res, &ns)
	}
	if err != nil {
		t.Fatalf("node subscriber: %v", err)
	}

	for i, r := range goSubs {
		r.verify(t, fmt.Sprintf("Go subscriber %d (from Node)", i+1))
		if d := r.sub.Dropped(); d != 0 {
			t.Errorf("Go subscriber %d dropped %d messages", i+1, d)
		}
	}
	nodeRecv.verify(t, "the Node subscriber (from Go)")

	// Every envelope on the wire is, timestamp aside, the bytes the other language writes for
	// the same event: here, Go's envelope of the payload its publisher meant.
	seen := map[string]bool{}
	wireChecked, wireBad := 0, 0
	wireError := func(format string, args ...any) {
		t.Helper()
		if wireBad++; wireBad <= 5 {
			t.Errorf(format, args...)
		}
	}
	for _, m := range wire.snapshot()[2*k:] {
		var env struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal([]byte(m.Payload), &env); err != nil {
			wireError("on the wire: %v: %s", err, m.Payload)
			continue
		}
		src, seq, err := seqOf(env.Data)
		if err != nil {
			wireError("on the wire: %v", err)
			continue
		}
		id := fmt.Sprintf("%s/%s/%d", env.Type, src, seq)
		if seen[id] {
			wireError("on the wire twice: %s", id)
		}
		seen[id] = true
		data, err := codec.Encode(invoicePayload(src, seq))
		if err != nil {
			t.Fatal(err)
		}
		want := events.AppendEnvelope(nil, env.Type, data, time.Now(), events.Scope{Key: "organization", Identifier: "acme"}, "")
		if got := redistest.MaskTimestamps(m.Payload); got != redistest.MaskTimestamps(string(want)) || got == m.Payload {
			wireError("on the wire, %s is not Go's envelope of it:\ngot  %s\nwant %s", id, m.Payload, want)
		}
		wireChecked++
	}
	if wireBad > 5 {
		t.Errorf("… %d envelopes on the wire were wrong", wireBad)
	}
	if wireChecked != np.Published+goCount {
		t.Errorf("%d envelopes on the wire in the run, want %d", wireChecked, np.Published+goCount)
	}

	goLast := goSubs[0].lastAt()
	if l := goSubs[1].lastAt(); l.After(goLast) {
		goLast = l
	}
	report(t, "Node → 2 Go subscribers: %d events published at %.0f/s, received by each at %.0f/s; "+
		"Go → Node subscriber: %d events published at %.0f/s, received at %.0f/s; target %d/s each way for %s; "+
		"0 lost, 0 invalid, 0 dropped; %d envelopes on the wire byte-identical to the other language's but for the timestamp, "+
		"and %d sample values published by both with byte-identical envelopes; CPU per event sent or received, schemas "+
		"validated on both ends: Node publisher %.0f µs, Node subscriber %.0f µs, Go process (publisher and two subscribers) %.0f µs",
		np.Published, float64(np.Published)/(np.MS/1000), float64(np.Published)/goLast.Sub(start).Seconds(),
		goCount, float64(goCount)/goPublishTook.Seconds(), float64(goCount)/nodeRecv.lastAt().Sub(start).Seconds(),
		rate, duration, wireChecked, k,
		np.CPUUs/float64(max(np.Published, 1)), ns.CPUUs/float64(max(ns.Received, 1)),
		float64(goCPU.Microseconds())/float64(max(goCount+2*np.Published, 1)))
}

// checkGoEnvelope returns what is wrong with an envelope a Go subscriber received from Node.
func checkGoEnvelope(ev events.Envelope[invoice]) string {
	switch want := invoicePayload("node", ev.Data.Seq); {
	case ev.Type != "billing:invoice_paid" || ev.Event != "billing:invoice_paid":
		return fmt.Sprintf("type %q on event %q", ev.Type, ev.Event)
	case ev.Scope == nil || *ev.Scope != events.Scope{Key: "organization", Identifier: "acme"}:
		return fmt.Sprintf("scope %v", ev.Scope)
	case ev.Legacy || ev.Timestamp.IsZero():
		return fmt.Sprintf("legacy %v, timestamp %v", ev.Legacy, ev.Timestamp)
	case !reflect.DeepEqual(ev.Data, want):
		b, err := json.Marshal(ev.Data)
		if err != nil {
			return err.Error()
		}
		return fmt.Sprintf("seq %d: data differs: %s", ev.Data.Seq, fieldDiff(b, want))
	}
	return ""
}

// checkNodeEnvelope returns the seq of an envelope the Node subscriber received from Go (as
// the subscriber re-encoded it with JSON.stringify), and what is wrong with it.
func checkNodeEnvelope(raw []byte) (int, string) {
	var env struct {
		Type      string          `json:"type"`
		Data      json.RawMessage `json:"data"`
		Timestamp string          `json:"timestamp"`
		Scope     *events.Scope   `json:"scope"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		return -1, fmt.Sprintf("%v: %s", err, raw)
	}
	var data invoice
	dec = json.NewDecoder(bytes.NewReader(env.Data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&data); err != nil {
		return -1, fmt.Sprintf("data: %v: %s", err, env.Data)
	}
	want := invoicePayload("go", data.Seq)
	switch _, tsErr := time.Parse(events.TimestampLayout, env.Timestamp); {
	case env.Type != "billing:invoice_refunded":
		return data.Seq, fmt.Sprintf("type %q", env.Type)
	case env.Scope == nil || *env.Scope != events.Scope{Key: "organization", Identifier: "acme"}:
		return data.Seq, fmt.Sprintf("scope %v", env.Scope)
	case tsErr != nil:
		return data.Seq, fmt.Sprintf("timestamp %q: %v", env.Timestamp, tsErr)
	case !reflect.DeepEqual(data, want):
		return data.Seq, fmt.Sprintf("data %s differs: %s", env.Data, fieldDiff(env.Data, want))
	}
	return data.Seq, ""
}

// received counts the events one subscriber received, by seq, out of those published.
type received struct {
	mu       sync.Mutex
	seen     []int  // by seq: times received
	received int    // messages received in all
	sent     []bool // by seq: published; nil until expect
	pending  int    // published and not received yet, once expect ran
	problems []string
	last     time.Time
	done     chan struct{} // closed when every published seq was received
	sub      events.Subscription
}

func newReceived(most int) *received {
	return &received{seen: make([]int, most), done: make(chan struct{})}
}

// expect sets which seqs were published, once publishing ended.
func (r *received) expect(sent []bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = sent
	for seq, s := range sent {
		if s && r.seen[seq] == 0 {
			r.pending++
		}
	}
	if r.pending == 0 {
		close(r.done)
	}
}

func (r *received) add(seq int, problem string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last = time.Now()
	if problem != "" {
		r.problems = append(r.problems, problem)
	}
	if seq < 0 || seq >= len(r.seen) {
		if problem == "" {
			r.problems = append(r.problems, fmt.Sprintf("seq %d out of range", seq))
		}
		return
	}
	r.seen[seq]++
	r.received++
	if r.sent != nil && r.seen[seq] == 1 && r.sent[seq] {
		r.pending--
		if r.pending == 0 {
			close(r.done)
		}
	}
}

// stall is how long a subscriber or the wire may receive nothing before the messages it still
// lacks count as lost.
const stall = 10 * time.Second

// wait returns when every published seq was received, when nothing arrived for stall, or when
// ctx ends.
func (r *received) wait(ctx context.Context) {
	last := -1
	for {
		select {
		case <-r.done:
			return
		case <-ctx.Done():
			return
		case <-time.After(stall):
		}
		r.mu.Lock()
		got := r.received
		r.mu.Unlock()
		if got == last {
			return
		}
		last = got
	}
}

func (r *received) fail(problem string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.problems = append(r.problems, problem)
}

func (r *received) lastAt() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// verify fails t unless every seq was received once, with nothing wrong.
func (r *received) verify(t *testing.T, who string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, p := range r.problems {
		if i == 5 {
			t.Errorf("%s: … %d more problems", who, len(r.problems)-i)
			break
		}
		t.Errorf("%s: %s", who, p)
	}
	lost, twice, unsent, sent := 0, 0, 0, 0
	for seq, c := range r.seen {
		switch {
		case !r.sent[seq] && c > 0:
			unsent++
		case !r.sent[seq]:
		case c == 0:
			lost++
		case c > 1:
			twice++
		}
		if r.sent[seq] {
			sent++
		}
	}
	if lost != 0 || twice != 0 || unsent != 0 || sent == 0 {
		t.Errorf("%s: %d of %d events lost, %d received more than once, %d received but never published", who, lost, sent, twice, unsent)
	}
}

// wireWatch records every message a plain client receives on a pattern.
type wireWatch struct {
	mu   sync.Mutex
	msgs []*redis.Message
	more chan struct{} // capacity 1: a message arrived
}

// watchWire PSUBSCRIBEs a plain client to pattern and records what arrives until the test ends.
func watchWire(ctx context.Context, t *testing.T, rdb *redis.Client, pattern string) *wireWatch {
	t.Helper()
	ps := rdb.PSubscribe(ctx, pattern)
	if _, err := ps.Receive(ctx); err != nil { // the PSUBSCRIBE confirmation
		t.Fatal(err)
	}
	w := &wireWatch{more: make(chan struct{}, 1)}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			m, err := ps.ReceiveMessage(context.Background())
			if err != nil {
				return // closed at cleanup
			}
			w.mu.Lock()
			w.msgs = append(w.msgs, m)
			w.mu.Unlock()
			select {
			case w.more <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		_ = ps.Close()
		<-stopped
	})
	return w
}

// waitFor waits until n messages arrived, or fails t when none arrived for stall or ctx ends.
func (w *wireWatch) waitFor(ctx context.Context, t *testing.T, n int) {
	t.Helper()
	for {
		w.mu.Lock()
		got := len(w.msgs)
		w.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-w.more:
		case <-time.After(stall):
			t.Fatalf("%d messages on the wire, want %d; none for %s", got, n, stall)
		case <-ctx.Done():
			t.Fatalf("%d messages on the wire, want %d", got, n)
		}
	}
}

func (w *wireWatch) snapshot() []*redis.Message {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]*redis.Message(nil), w.msgs...)
}
