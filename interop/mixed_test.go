package interop_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/streams"
)

// TestMixedConsumerGroup runs one consumer group of two Node consumers (the original's
// group.read and ack) and two Go consume loops on one stream, while both languages append
// 100,000 entries at once. One Node consumer is killed (SIGKILL) after it handled a batch and
// before it acked it: the Go loops must claim those pending entries and handle them. Every entry
// must be handled, with the payload its producer wrote (field by field), and only the killed
// consumer's unacked entries may be handled twice.
func TestMixedConsumerGroup(t *testing.T) {
	bin := needNode(t)
	srv := redistest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const (
		perSide    = 50_000
		total      = 2 * perSide
		stream     = "orders"
		group      = "billing"
		crashAfter = 3_000 // entries the doomed Node consumer handles before it dies (it gets about a quarter of 100,000)
		claimIdle  = 5 * time.Second
	)
	streamKey := "igniter:store:" + service + ":organization:acme:streams:" + stream
	raw := srv.Client(t)

	var reclaimed atomic.Int64
	observe := func(b *client.Builder) *client.Builder {
		return b.WithObserver(ops.ObserverFunc(func(_ context.Context, s ops.Signal) {
			if s.Kind == ops.SignalReclaimed {
				reclaimed.Add(s.N)
			}
		}))
	}
	producer := scoped(t, newStore(t, srv))
	goStores := []*client.Store{scoped(t, newStore(t, srv, observe)), scoped(t, newStore(t, srv, observe))}
	if err := producer.Streams.Group(group, "setup").Ensure(ctx, stream, streams.EnsureOptions{StartID: "0"}); err != nil {
		t.Fatal(err)
	}

	h := newHandlings(total)

	// Two Node consumers, each a process of its own (the original blocks its only connection
	// while it reads); node-2 dies after crashAfter entries.
	crashed := make(chan crash, 1)
	consume := func(p *nodeProc, name string, crashAt int) (*nodeCall, chan struct{}) {
		ready := make(chan struct{})
		cmd := map[string]any{"cmd": "consume", "stream": stream, "group": group, "consumer": name, "scope": nodeScope, "count": 100, "blockMs": 100}
		if crashAt > 0 {
			cmd["crashAfter"] = crashAt
		}
		c := p.start(cmd, func(ev json.RawMessage) {
			var e struct {
				Ready bool                 `json:"ready"`
				H     [][2]json.RawMessage `json:"h"`
				Crash bool                 `json:"crash"`
				Held  []string             `json:"held"`
				At    int64                `json:"at"` // Unix ms when it stopped
			}
			if err := json.Unmarshal(ev, &e); err != nil {
				t.Errorf("%s: %v", name, err)
				return
			}
			switch {
			case e.Ready:
				close(ready)
			case e.Crash:
				crashed <- crash{held: e.Held, at: time.UnixMilli(e.At)}
			default:
				for _, m := range e.H {
					var id string
					if err := json.Unmarshal(m[0], &id); err != nil {
						t.Errorf("%s: entry id %s: %v", name, m[0], err)
						continue
					}
					h.handle(name, id, m[1])
				}
			}
		})
		return c, ready
	}
	n1 := startNode(t, bin, srv.Addr, "consumer-1")
	n2 := startNode(t, bin, srv.Addr, "consumer-2")
	c1, ready1 := consume(n1, "node-1", 0)
	c2, ready2 := consume(n2, "node-2", crashAfter)
	for _, w := range []struct {
		ready chan struct{}
		c     *nodeCall
	}{{ready1, c1}, {ready2, c2}} {
		select {
		case <-w.ready:
		case <-w.c.done:
			t.Fatalf("a Node consumer ended before it was ready: %v", w.c.err)
		case <-ctx.Done():
			t.Fatal("the Node consumers did not start")
		}
	}

	// Two Go consume loops, each on a store of its own.
	loopCtx, stopLoops := context.WithCancel(ctx)
	var loops sync.WaitGroup
	defer loops.Wait() // after stopLoops, when the test fails early
	defer stopLoops()
	for i, st := range goStores {
		name := fmt.Sprintf("go-%d", i+1)
		g := st.Streams.Group(group, name)
		loops.Go(func() {
			err := g.Consume(loopCtx, stream, func(_ context.Context, e streams.Entry) error {
				h.handle(name, e.ID, e.Message)
				return nil
			}, streams.ConsumeOptions{Concurrency: 4, Batch: 100, Block: 200 * time.Millisecond,
				ClaimIdle: claimIdle, ClaimInterval: 500 * time.Millisecond, LagInterval: -1})
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
		})
	}

	// Both languages append at once: a Node producer (16 callers on its one connection) and 16 Go
	// goroutines on one store.
	np := startNode(t, bin, srv.Addr, "producer")
	start := time.Now()
	prod := np.start(map[string]any{"cmd": "produce", "stream": stream, "src": "node", "count": perSide, "concurrency": 16, "scope": nodeScope}, nil)
	var next atomic.Int64
	var producers sync.WaitGroup
	defer producers.Wait() // after cancel, when the test fails early
	defer cancel()
	for range 16 {
		producers.Go(func() {
			for {
				seq := int(next.Add(1) - 1)
				if seq >= perSide {
					return
				}
				if _, err := producer.Streams.Append(ctx, stream, entryPayload("go", seq), streams.AppendOptions{}); err != nil {
					if ctx.Err() == nil {
						t.Errorf("go append %d: %v", seq, err)
					}
					return
				}
			}
		})
	}

	// node-2 handled its entries and one more batch, which it will never ack: kill it.
	var cr crash
	select {
	case cr = <-crashed:
	case <-c2.done:
		t.Fatalf("node-2 ended before its crash: %v", c2.err)
	case <-ctx.Done():
		t.Fatalf("node-2 never reached its crash point (%d handled in all)", h.distinctCount())
	}
	n2.kill()
	held := cr.held
	pend, err := raw.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: streamKey, Group: group, Start: "-", End: "+", Count: 100_000, Consumer: "node-2"}).Result()
	if err != nil {
		t.Fatal(err)
	}
	var pendingAtKill []string
	for _, p := range pend {
		pendingAtKill = append(pendingAtKill, p.ID)
	}

	producers.Wait()
	var produced struct {
		Appended int     `json:"appended"`
		MS       float64 `json:"ms"`
	}
	res, err := prod.wait(ctx)
	if err == nil {
		err = json.Unmarshal(res, &produced)
	}
	if err != nil {
		t.Fatalf("node producer: %v", err)
	}
	appended := time.Since(start)

	// Wait until every entry was handled, failing when the consumers make no progress for
	// stuck (longer than ClaimIdle, after which a dead consumer's entries are claimed).
	const stuck = 3 * claimIdle
	for last := -1; ; {
		select {
		case <-h.all:
		case <-ctx.Done():
			t.Fatalf("only %d of %d entries were handled", h.distinctCount(), total)
		case <-time.After(stuck):
			if got := h.distinctCount(); got != last {
				last = got
				continue
			}
			t.Fatalf("only %d of %d entries were handled, none in the last %s", last, total, stuck)
		}
		break
	}
	// Acks trail the handling (the Go loop acks in groups; the claimed entries need ClaimIdle
	// first): wait until the group has nothing pending.
	for last, since := int64(-1), time.Now(); ; {
		p, err := raw.XPending(ctx, streamKey, group).Result()
		if err != nil {
			t.Fatal(err)
		}
		if p.Count == 0 {
			break
		}
		if p.Count != last {
			last, since = p.Count, time.Now()
		} else if time.Since(since) > stuck {
			t.Fatalf("%d entries still pending after %s: %v", p.Count, stuck, p.Consumers)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%d entries still pending: %v", p.Count, p.Consumers)
		case <-time.After(50 * time.Millisecond): // Redis has no signal for "nothing pending"
		}
	}
	took := time.Since(start)
	stopLoops()
	loops.Wait()
	var n1res struct {
		Handled int `json:"handled"`
	}
	if res, err := n1.stop(ctx, c1); err != nil || json.Unmarshal(res, &n1res) != nil {
		t.Fatalf("node-1: %v %s", err, res)
	}

	// Every entry of both producers was handled, once, with the payload its producer wrote.
	h.mu.Lock()
	defer h.mu.Unlock()
	idOf, mismatches := h.check()
	for i, m := range mismatches {
		if i == 10 {
			t.Errorf("… %d more mismatches", len(mismatches)-i)
			break
		}
		t.Error(m)
	}
	losses := 0
	for _, src := range []string{"node", "go"} {
		for seq := range perSide {
			if _, ok := idOf[entryKey{src, seq}]; !ok {
				losses++
				if losses <= 5 {
					t.Errorf("entry %s/%d was never handled", src, seq)
				}
			}
		}
	}
	if n, err := raw.XLen(ctx, streamKey).Result(); err != nil || n != total {
		t.Errorf("the stream holds %d entries (%v), want %d", n, err, total)
	}
	if n, err := raw.XLen(ctx, streamKey+":dead").Result(); err != nil || n != 0 {
		t.Errorf("the dead-letter stream holds %d entries (%v), want none", n, err)
	}

	// Only the killed consumer's unacked entries were handled twice: by it, then by a Go loop
	// that claimed them after ClaimIdle. (Under load the kill can come after ClaimIdle: then a
	// Go loop has claimed some already, and Redis has fewer pending for node-2.)
	slices.Sort(held)
	if len(held) == 0 {
		t.Error("node-2 held no entries when it stopped")
	}
	for _, id := range pendingAtKill {
		if _, found := slices.BinarySearch(held, id); !found {
			t.Errorf("entry %s was pending for node-2 when it was killed, but node-2 had acked it", id)
		}
	}
	duplicates := 0
	var lastClaim time.Time
	for id, hs := range h.by {
		if len(hs) == 1 {
			continue
		}
		duplicates += len(hs) - 1
		if _, found := slices.BinarySearch(held, id); !found {
			t.Errorf("entry %s was handled by %v: twice, though no consumer that had it failed", id, consumers(hs))
		}
	}
	for _, id := range held {
		hs := h.by[id]
		if len(hs) != 2 || hs[0].by != "node-2" || !strings.HasPrefix(hs[1].by, "go-") {
			t.Errorf("entry %s, left pending by the killed node-2, was handled by %v; want node-2, then a Go loop", id, consumers(hs))
			continue
		}
		if hs[1].at.After(lastClaim) {
			lastClaim = hs[1].at
		}
	}
	if got := reclaimed.Load(); got < int64(len(held)) {
		t.Errorf("the Go loops reported %d entries reclaimed, want at least the %d node-2 left", got, len(held))
	}
	if n1res.Handled != h.count["node-1"] {
		t.Errorf("node-1 says it handled %d entries, it reported %d", n1res.Handled, h.count["node-1"])
	}

	report(t, "%d entries (%d appended by Node in %.1fs, %d by Go) in one group of 2 Node + 2 Go consumers: "+
		"appended in %.1fs, all handled and acked in %.1fs (%.0f entries/s); handled by node-1 %d, node-2 %d (killed), go-1 %d, go-2 %d; "+
		"%d losses; %d duplicates, all of them the %d entries the killed Node consumer left pending, claimed and handled by Go %.1fs after node-2 stopped (ClaimIdle %s)",
		total, produced.Appended, produced.MS/1000, perSide, appended.Seconds(), took.Seconds(), float64(total)/took.Seconds(),
		h.count["node-1"], h.count["node-2"], h.count["go-1"], h.count["go-2"],
		losses, duplicates, len(held), lastClaim.Sub(cr.at).Seconds(), claimIdle)
}

// crash is what a Node consumer reports when it stops between its work and its ack.
type crash struct {
	held []string  // the entries it handled and will not ack
	at   time.Time // when it stopped
}

// entryKey names an entry by its producer and sequence number.
type entryKey struct {
	src string
	seq int
}

// handling is one consumer's handling of an entry.
type handling struct {
	by  string
	id  string
	msg []byte
	at  time.Time
}

func consumers(hs []handling) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.by
	}
	return out
}

// handlings records every handling of every entry, from every consumer. Recording is cheap (the
// Node consumers' reports are read on one goroutine, which must keep up); check compares the
// messages afterwards.
type handlings struct {
	mu    sync.Mutex
	total int
	by    map[string][]handling // entry id → its handlings, in order
	count map[string]int        // consumer → entries handled
	all   chan struct{}         // closed when total distinct entries were handled
}

func newHandlings(total int) *handlings {
	return &handlings{total: total, by: make(map[string][]handling, total), count: map[string]int{}, all: make(chan struct{})}
}

func (h *handlings) distinctCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.by)
}

// handle records that consumer handled entry id with message msg (JSON).
func (h *handlings) handle(consumer, id string, msg []byte) {
	now := time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.count[consumer]++
	h.by[id] = append(h.by[id], handling{by: consumer, id: id, msg: msg, at: now})
	if len(h.by) == h.total && len(h.by[id]) == 1 {
		close(h.all)
	}
}

// check compares every handled message with the payload its producer wrote and returns the
// mismatches and which entry holds each producer's message. h.mu must be held.
//
// Each message must be, byte for byte, the payload as JSON.stringify writes it or as Go's codec
// does (the same bytes with U+2028 and U+2029 escaped). One that is not is decoded strictly (no
// unknown field) and compared field by field, to say what differs; so is every 1000th, also as
// generic JSON.
func (h *handlings) check() (idOf map[entryKey]string, mismatches []string) {
	idOf = make(map[entryKey]string, len(h.by))
	for id, hs := range h.by {
		for _, hd := range hs {
			k, ok := entryKeyOf(hd.msg)
			same := ok && sameEntryBytes(hd.msg, entryPayload(k.src, k.seq))
			if !same || k.seq%1000 == 0 {
				var got entry
				dec := json.NewDecoder(bytes.NewReader(hd.msg))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&got); err != nil {
					mismatches = append(mismatches, fmt.Sprintf("%s: entry %s does not decode: %v: %s", hd.by, id, err, hd.msg))
					continue
				}
				k = entryKey{got.Src, got.Seq}
				want := entryPayload(got.Src, got.Seq)
				if d := fieldDiff(hd.msg, want); d != "" || !reflect.DeepEqual(got, want) {
					mismatches = append(mismatches, fmt.Sprintf("%s: entry %s (%s/%d) differs from what its producer wrote: %s", hd.by, id, k.src, k.seq, d))
				} else if !same {
					mismatches = append(mismatches, fmt.Sprintf("%s: entry %s (%s/%d) holds the right values in other bytes than either language writes: %s", hd.by, id, k.src, k.seq, hd.msg))
				}
			}
			if prev, ok := idOf[k]; ok && prev != id {
				mismatches = append(mismatches, fmt.Sprintf("%s/%d is in two entries, %s and %s", k.src, k.seq, prev, id))
			}
			idOf[k] = id
		}
	}
	return idOf, mismatches
}

// entryKeyOf reads the producer and seq from the start of a message as both languages write it,
// {"src":"…","seq":N,…}; ok is false for anything else.
func entryKeyOf(msg []byte) (k entryKey, ok bool) {
	rest, ok := bytes.CutPrefix(msg, []byte(`{"src":"`))
	if !ok {
		return k, false
	}
	src, rest, ok := bytes.Cut(rest, []byte(`","seq":`))
	if !ok {
		return k, false
	}
	num, _, ok := bytes.Cut(rest, []byte(","))
	if !ok {
		return k, false
	}
	seq, err := strconv.Atoi(string(num))
	return entryKey{string(src), seq}, err == nil
}

// sameEntryBytes reports whether msg is want as JSON.stringify writes it, or as Go's codec does
// (the same bytes with U+2028 and U+2029 escaped), built here by hand: the cheap check that
// keeps the comparison of 100,000 messages fast under the race detector.
func sameEntryBytes(msg []byte, want entry) bool {
	b := make([]byte, 0, 320)
	b = append(b, `{"src":"`...)
	b = append(b, want.Src...)
	b = append(b, `","seq":`...)
	b = strconv.AppendInt(b, int64(want.Seq), 10)
	b = append(b, `,"text":"`...)
	b = fmt.Appendf(b, `entry %d from %s: café ✓ 🚀 \"q\" \\ <b>&</b> `, want.Seq, want.Src)
	seps := len(b)
	b = append(b, "\u2028\u2029 end\",\"amount\":"...)
	b = strconv.AppendFloat(b, want.Amount, 'f', -1, 64)
	b = append(b, `,"big":`...)
	b = strconv.AppendInt(b, want.Big, 10)
	b = fmt.Appendf(b, `,"tags":["%s","%s"],"nested":{"seq":%d,"even":%t,"ratio":`, want.Tags[0], want.Tags[1], want.Nested.Seq, want.Nested.Even)
	b = strconv.AppendFloat(b, want.Nested.Ratio, 'f', -1, 64)
	b = fmt.Appendf(b, `},"ok":%t,"none":null}`, want.OK)
	if bytes.Equal(msg, b) {
		return true
	}
	escaped := append(append(b[:seps:seps], `\u2028\u2029`...), b[seps+len("\u2028\u2029"):]...)
	return bytes.Equal(msg, escaped)
}
