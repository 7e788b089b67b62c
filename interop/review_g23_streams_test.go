package interop_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/streams"
)

// TestReviewG23LiveNodeConsumerRobbed asserts the narrowed promise (docs/interop.md, "What a
// Node service must do"): a Node consumer cannot refresh its entries, so its batch must be
// handled within the Go loops' ClaimIdle; when it is, no entry is handled by both. Here the Node
// handler takes 1 s per batch and the Go loop's ClaimIdle is 4 s; the Go loop runs in the same
// group from before Node's read until after Node's last ack, and nothing is killed. (With a
// ClaimIdle below the handling time the Go loop would claim and handle the Node batch too.)
func TestReviewG23LiveNodeConsumerRobbed(t *testing.T) {
	bin := needNode(t)
	srv := redistest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const (
		stream  = "jobs"
		group   = "workers"
		entries = 10
	)
	st := scoped(t, newStore(t, srv))
	if err := st.Streams.Group(group, "setup").Ensure(ctx, stream, streams.EnsureOptions{StartID: "0"}); err != nil {
		t.Fatal(err)
	}

	node := startG23Node(t, bin, srv.Addr, `
  const g = scoped.streams.group(args.group, "node-1");
  await g.ensure(args.stream, { startId: "0" });
  out({ ready: true });
  let handled = 0;
  const deadline = Date.now() + args.ms;
  while (handled < args.entries && Date.now() < deadline) {
    const batch = await g.read(args.stream, { count: 5, blockMs: 100 });
    if (batch.length === 0) continue;
    out({ start: batch.map((m) => m.id), at: Date.now() });
    await sleep(args.handleMs); // the handler's work
    await g.ack(args.stream, batch.map((m) => m.id));
    out({ end: batch.map((m) => m.id), at: Date.now() });
    handled += batch.length;
  }
  out({ done: true });
`, map[string]any{"group": group, "stream": stream, "entries": entries, "handleMs": 1000, "ms": 20000})
	var ready struct{ Ready bool }
	node.next(ctx, t, &ready)

	var mu sync.Mutex
	goHandled := map[string]time.Time{}
	loopCtx, stop := context.WithCancel(ctx)
	loopDone := make(chan error, 1)
	go func() {
		loopDone <- st.Streams.Group(group, "go-1").Consume(loopCtx, stream, func(_ context.Context, e streams.Entry) error {
			mu.Lock()
			goHandled[e.ID] = time.Now()
			mu.Unlock()
			return nil
		}, streams.ConsumeOptions{Concurrency: 1, Batch: 1, Block: 50 * time.Millisecond,
			ClaimIdle: 4 * time.Second, ClaimInterval: 100 * time.Millisecond, LagInterval: -1})
	}()

	// Append so that the Node consumer's blocking read gets the first batch.
	for i := range entries {
		if _, err := st.Streams.Append(ctx, stream, map[string]any{"seq": i}, streams.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	// Node's batches: start and end times per id.
	type span struct{ start, end time.Time }
	nodeSpans := map[string]*span{}
	for {
		var m struct {
			Start, End []string
			At         int64
			Done       bool
		}
		node.next(ctx, t, &m)
		if m.Done {
			break
		}
		at := time.UnixMilli(m.At)
		for _, id := range m.Start {
			nodeSpans[id] = &span{start: at}
		}
		for _, id := range m.End {
			nodeSpans[id].end = at
		}
		mu.Lock()
		n := len(goHandled)
		mu.Unlock()
		if n+len(nodeSpans) >= entries && len(m.End) > 0 {
			allEnded := true
			for _, s := range nodeSpans {
				allEnded = allEnded && !s.end.IsZero()
			}
			if allEnded {
				break
			}
		}
	}
	stop()
	if err := <-loopDone; err != nil {
		t.Errorf("consume: %v", err)
	}

	mu.Lock()
	defer mu.Unlock()
	var twice []string
	for id, s := range nodeSpans {
		if at, ok := goHandled[id]; ok {
			twice = append(twice, fmt.Sprintf("%s (node %s…%s, go at %s)", id,
				s.start.Format("05.000"), s.end.Format("05.000"), at.Format("05.000")))
		}
	}
	handled := map[string]bool{}
	for id := range goHandled {
		handled[id] = true
	}
	for id := range nodeSpans {
		handled[id] = true
	}
	if len(handled) != entries {
		t.Errorf("%d of %d entries handled", len(handled), entries)
	}
	if len(nodeSpans) == 0 {
		t.Fatal("the Node consumer got no entries: the attack did not run")
	}
	var longest time.Duration
	for _, s := range nodeSpans {
		longest = max(longest, s.end.Sub(s.start))
	}
	t.Logf("Node handled %d entries (longest batch %v), Go %d; handled by both: %d", len(nodeSpans), longest, len(goHandled), len(twice))
	if len(twice) > 0 {
		raw, _ := json.Marshal(twice)
		t.Errorf("%d of the %d entries the live Node consumer handled within ClaimIdle were also handled by the Go loop "+
			"(no consumer died): %s", len(twice), len(nodeSpans), raw)
	}
}

// TestReviewG23LoneSurrogate pins a documented difference (docs/interop.md, "What differs"): a
// Node service that cuts a string by UTF-16 units ("… 🚀".slice(0, n)) writes a lone surrogate,
// escaped by JSON.stringify ("\ud83d"). A Go consumer that decodes it into a struct's string gets
// U+FFFD in its place (and so does Node when Go passes that on), while json.RawMessage passes the
// entry through byte-identical.
func TestReviewG23LoneSurrogate(t *testing.T) {
	bin := needNode(t)
	srv := redistest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st := scoped(t, newStore(t, srv))
	prefix := "igniter:store:" + service + ":organization:acme:streams:"

	var wrote struct{ Name string }
	runG23Node(t, bin, srv.Addr, `
  const name = "Zoë 🚀 launch".slice(0, 5); // "Zoë " + the high surrogate of 🚀
  await scoped.streams.append("src", { name, seq: 1 });
  out({ name });
`, nil, &wrote)

	entries, err := st.Streams.Range(ctx, "src", streams.RangeOptions{})
	if err != nil || len(entries) != 1 {
		t.Fatalf("range: %v %v", entries, err)
	}
	var msg struct {
		Name string `json:"name"`
		Seq  int    `json:"seq"`
	}
	if err := entries[0].Decode(&msg); err != nil {
		t.Fatal(err)
	}
	if want := "Zo\u00eb \ufffd"; msg.Name != want {
		t.Errorf("Go decoded the lone surrogate into %q, want the documented %q (U+FFFD in its place)", msg.Name, want)
	}
	if _, err := st.Streams.Append(ctx, "viaStruct", msg, streams.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Streams.Append(ctx, "viaRaw", entries[0].Message, streams.AppendOptions{}); err != nil {
		t.Fatal(err)
	}

	var got struct {
		Original                   []int
		ViaStruct, ViaRaw          []int
		SameStruct, SameRaw        bool
		StoredSrc, StoredViaStruct string
	}
	runG23Node(t, bin, srv.Addr, `
  const codes = (s) => Array.from({ length: s.length }, (_, i) => s.charCodeAt(i));
  const name = "Zoë 🚀 launch".slice(0, 5);
  const read = async (k) => { const [[, f]] = await redis.xrange(args.prefix + k, "-", "+"); return f[f.indexOf("data") + 1]; };
  const viaStruct = JSON.parse(await read("viaStruct")).name, viaRaw = JSON.parse(await read("viaRaw")).name;
  out({ original: codes(name), viaStruct: codes(viaStruct), viaRaw: codes(viaRaw), sameStruct: viaStruct === name, sameRaw: viaRaw === name,
        storedSrc: await read("src"), storedViaStruct: await read("viaStruct") });
`, map[string]any{"prefix": prefix}, &got)
	t.Logf("Node wrote %v (stored %s); Go decoded %q; via struct %v (stored %s); via RawMessage %v",
		got.Original, got.StoredSrc, msg.Name, got.ViaStruct, got.StoredViaStruct, got.ViaRaw)
	if !got.SameRaw {
		t.Errorf("the entry's raw message passed through Go came back changed: %v, want %v", got.ViaRaw, got.Original)
	}
	// Byte-identical: the data field Go wrote from the RawMessage is the one Node wrote.
	raw := srv.Client(t)
	data := func(k string) string {
		xs, err := raw.XRange(ctx, prefix+k, "-", "+").Result()
		if err != nil || len(xs) != 1 {
			t.Fatalf("xrange %s: %v %v", k, xs, err)
		}
		v, _ := xs[0].Values["data"].(string)
		return v
	}
	if src, via := data("src"), data("viaRaw"); src != via || src == "" {
		t.Errorf("json.RawMessage did not pass the entry through byte-identical: Node stored %q, Go re-wrote %q", src, via)
	}
	// The documented difference: through a struct, Node reads U+FFFD where it wrote the surrogate.
	want := append(slices.Clone(got.Original[:len(got.Original)-1]), 0xFFFD)
	if got.SameStruct || !slices.Equal(got.ViaStruct, want) {
		t.Errorf("through a Go struct Node read UTF-16 %v, want the documented %v (U+FFFD for the lone surrogate %v)",
			got.ViaStruct, want, got.Original)
	}
}

// TestReviewG23GoLoopRestartMidClaim: a Node consumer reads entries and dies (SIGKILL) before
// its ack; a Go loop claims them and is stopped while handling the first (its handler returns
// the ctx error); a new Go loop under another name must then handle every one, and nothing may
// stay pending. Only the entry the first loop was running may be handled twice.
func TestReviewG23GoLoopRestartMidClaim(t *testing.T) {
	bin := needNode(t)
	srv := redistest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const (
		stream  = "restart"
		group   = "g"
		entries = 10
	)
	consumed := make(chan struct{}, 4*entries) // one per SignalConsumed: sent after the entry's ack
	st := scoped(t, newStore(t, srv, func(b *client.Builder) *client.Builder {
		return b.WithObserver(ops.ObserverFunc(func(_ context.Context, s ops.Signal) {
			if s.Kind == ops.SignalConsumed {
				select {
				case consumed <- struct{}{}:
				default:
				}
			}
		}))
	}))
	if err := st.Streams.Group(group, "setup").Ensure(ctx, stream, streams.EnsureOptions{StartID: "0"}); err != nil {
		t.Fatal(err)
	}
	for i := range entries {
		if _, err := st.Streams.Append(ctx, stream, map[string]any{"seq": i}, streams.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	node := startG23Node(t, bin, srv.Addr, `
  const g = scoped.streams.group(args.group, "node-doomed");
  const batch = await g.read(args.stream, { count: 100 });
  out({ held: batch.map((m) => m.id) });
  await new Promise(() => {}); // killed here, before its ack
`, map[string]any{"group": group, "stream": stream})
	var held struct{ Held []string }
	node.next(ctx, t, &held)
	if len(held.Held) != entries {
		t.Fatalf("node read %d entries", len(held.Held))
	}
	_ = node.cmd.Process.Kill()
	<-node.done

	var mu sync.Mutex
	by := map[string][]string{}
	opts := streams.ConsumeOptions{Concurrency: 1, Batch: 5, Block: 50 * time.Millisecond,
		ClaimIdle: 300 * time.Millisecond, ClaimInterval: 50 * time.Millisecond, LagInterval: -1, StopGrace: time.Second}

	// Loop A: stopped while handling its first entry.
	aCtx, stopA := context.WithCancel(ctx)
	running := make(chan string, 1)
	aDone := make(chan error, 1)
	go func() {
		aDone <- st.Streams.Group(group, "go-a").Consume(aCtx, stream, func(hctx context.Context, e streams.Entry) error {
			select {
			case running <- e.ID:
			default:
			}
			<-hctx.Done()
			return hctx.Err()
		}, opts)
	}()
	var first string
	select {
	case first = <-running:
	case <-ctx.Done():
		t.Fatal("loop A claimed nothing")
	}
	stopA()
	if err := <-aDone; err != nil {
		t.Logf("loop A: %v", err)
	}

	// Loop B: must handle all of them.
	bCtx, stopB := context.WithCancel(ctx)
	defer stopB()
	all := make(chan struct{})
	bDone := make(chan error, 1)
	go func() {
		bDone <- st.Streams.Group(group, "go-b").Consume(bCtx, stream, func(_ context.Context, e streams.Entry) error {
			mu.Lock()
			by[e.ID] = append(by[e.ID], "go-b")
			if len(by) == entries {
				select {
				case <-all:
				default:
					close(all)
				}
			}
			mu.Unlock()
			return nil
		}, opts)
	}()
	select {
	case <-all:
	case <-time.After(20 * time.Second):
	}
	// Wait for the acks: one SignalConsumed per acked entry (loop A acked nothing: its handler
	// failed).
	acked := 0
	for wait := time.After(20 * time.Second); acked < entries; {
		select {
		case <-consumed:
			acked++
			continue
		case <-wait:
		}
		break
	}
	raw := srv.Client(t)
	key := "igniter:store:" + service + ":organization:acme:streams:" + stream
	xp, err := raw.XPending(ctx, key, group).Result()
	if err != nil {
		t.Fatal(err)
	}
	pending := xp.Count
	stopB()
	<-bDone
	mu.Lock()
	defer mu.Unlock()
	if len(by) != entries {
		t.Errorf("loop B handled %d of the %d entries the dead Node consumer left (loop A was stopped running %s)", len(by), entries, first)
	}
	for id, hs := range by {
		if len(hs) > 1 {
			t.Errorf("%s handled %d times by loop B", id, len(hs))
		}
	}
	if acked != entries {
		t.Errorf("%d of %d entries reported acked (SignalConsumed)", acked, entries)
	}
	if pending != 0 {
		t.Errorf("%d entries still pending after loop B acked them", pending)
	}
}

// TestReviewG23DateThroughGo pins a documented difference (docs/interop.md, "What differs"): a
// Node service stores a Date (toISOString(): always three fractional digits, "…05.100Z"); a Go
// service that decodes it into a time.Time and writes it back writes RFC 3339 with the trailing
// zeros cut ("…05.1Z"). The string differs; the instant is equal.
func TestReviewG23DateThroughGo(t *testing.T) {
	bin := needNode(t)
	srv := redistest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st := newStore(t, srv)
	var wrote struct{ At string }
	runG23Node(t, bin, srv.Addr, `
  const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 100));
  await store.kv.set("dated", { at });
  out({ at: at.toISOString() });
`, nil, &wrote)
	var v struct {
		At time.Time `json:"at"`
	}
	if found, err := st.KV.Get(ctx, "dated", &v); !found || err != nil {
		t.Fatalf("get: %v %v", found, err)
	}
	if err := st.KV.Set(ctx, "dated", v, 0); err != nil {
		t.Fatal(err)
	}
	var got struct{ At string }
	runG23Node(t, bin, srv.Addr, `out({ at: (await store.kv.get("dated")).at });`, nil, &got)
	t.Logf("Node wrote %q; after Go's time.Time Node reads %q", wrote.At, got.At)
	if wrote.At != "2026-01-02T03:04:05.100Z" || got.At != "2026-01-02T03:04:05.1Z" {
		t.Errorf("a Date Node wrote as %q came back from Go (time.Time) as %q; want the documented %q -> %q",
			wrote.At, got.At, "2026-01-02T03:04:05.100Z", "2026-01-02T03:04:05.1Z")
	}
	w, err1 := time.Parse(time.RFC3339Nano, wrote.At)
	g, err2 := time.Parse(time.RFC3339Nano, got.At)
	if err1 != nil || err2 != nil || !w.Equal(g) {
		t.Errorf("the instants differ: Node wrote %q (%v), Go wrote %q (%v)", wrote.At, err1, got.At, err2)
	}
}
