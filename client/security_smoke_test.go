package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/events"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/streams"
)

// smokeEveryFeature runs every feature of st once against its Redis and fails t at the first
// error: KV, counters, batch, claims, leases, events (exact and pattern), streams (append, range,
// group read with and without blocking, ack, claim, pending, a consume loop).
func smokeEveryFeature(t *testing.T, st *client.Store) {
	t.Helper()
	ctx := context.Background()
	check := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	check("kv.set", st.KV.Set(ctx, "k", map[string]int{"a": 1}, time.Minute))
	var got map[string]int
	found, err := st.KV.Get(ctx, "k", &got)
	check("kv.get", err)
	if !found || got["a"] != 1 {
		t.Fatalf("kv.get = %v %v", found, got)
	}
	_, err = st.KV.Exists(ctx, "k")
	check("kv.exists", err)
	check("kv.expire", st.KV.Expire(ctx, "k", time.Hour))
	check("kv.touch", st.KV.Touch(ctx, "k", 2*time.Hour))
	check("kv.remove", st.KV.Remove(ctx, "k"))
	_, err = st.Counter.Increment(ctx, "c")
	check("counter.increment", err)
	_, err = st.Counter.Decrement(ctx, "c")
	check("counter.decrement", err)
	_, err = st.Counter.IncrementBy(ctx, "c", 5)
	check("counter.incrementBy", err)
	check("counter.expire", st.Counter.Expire(ctx, "c", time.Minute))
	check("batch.set", st.Batch.Set(ctx, client.BatchEntry{Key: "b1", Value: 1}, client.BatchEntry{Key: "b2", Value: 2, TTL: time.Minute}))
	_, err = st.Batch.Get(ctx, "b1", "b2")
	check("batch.get", err)
	_, err = st.KV.SetIfAbsent(ctx, "absent", 1, time.Minute, new(int))
	check("kv.setIfAbsent", err)
	_, err = st.Counter.GCRA(ctx, "rate", ops.RateArgs{Rate: 10, Period: time.Second, Burst: 10}, 1)
	check("counter.gcra", err)
	_, err = st.Claim.Once(ctx, "once", "me", time.Minute)
	check("claim.once", err)
	_, err = st.Claim.Release(ctx, "once", "me")
	check("claim.release", err)
	lease, err := st.Claim.Acquire(ctx, "lease", time.Minute, client.AcquireOptions{})
	check("lease.acquire", err)
	check("lease.extend", lease.Extend(ctx, time.Minute))
	check("lease.release", lease.Release(ctx))
	check("claim.hold", st.Claim.Hold(ctx, "held", time.Minute, func(context.Context) error { return nil }))

	exact, pattern := newInbox(), newInbox()
	sub1, err := st.Events.Subscribe(ctx, "smoke:exact", exact.handler)
	check("events.subscribe", err)
	defer sub1.Close()
	sub2, err := st.Events.Subscribe(ctx, "smoke:*", pattern.handler)
	check("events.subscribe pattern", err)
	defer sub2.Close()
	check("events.publish", st.Events.Publish(ctx, "smoke:exact", "hi"))
	if m := exact.next(t); string(m.Data) != `"hi"` {
		t.Fatalf("exact subscription got %s", m.Data)
	}
	if m := pattern.next(t); string(m.Data) != `"hi"` {
		t.Fatalf("pattern subscription got %s", m.Data)
	}
	check("subscription.close", sub1.Close())

	id, err := st.Streams.Append(ctx, "s", map[string]string{"n": "1"}, streams.AppendOptions{})
	check("stream.append", err)
	_, err = st.Streams.Range(ctx, "s", streams.RangeOptions{})
	check("stream.range", err)
	g := st.Streams.Group("g", "c1")
	check("stream.ensure", g.Ensure(ctx, "s", streams.EnsureOptions{StartID: "0"}))
	entries, err := g.Read(ctx, "s", streams.ReadOptions{Count: 10})
	check("stream.read", err)
	if len(entries) != 1 || entries[0].ID != id {
		t.Fatalf("stream.read = %+v", entries)
	}
	_, err = g.Read(ctx, "s", streams.ReadOptions{Count: 10, Block: 20 * time.Millisecond})
	check("stream.read blocking", err)
	_, err = g.Pending(ctx, "s", 10)
	check("stream.pending", err)
	_, _, err = g.Claim(ctx, "s", streams.ClaimOptions{})
	check("stream.claim", err)
	_, err = g.Ack(ctx, "s", id)
	check("stream.ack", err)
	_, err = st.Streams.Append(ctx, "s", "2", streams.AppendOptions{})
	check("stream.append", err)
	consumed := make(chan struct{}, 1) // buffered: a handler call before the select below counts
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- st.Streams.Group("g2", "c1").Consume(cctx, "s", func(context.Context, streams.Entry) error {
			select {
			case consumed <- struct{}{}:
			default:
			}
			return nil
		}, streams.ConsumeOptions{EnsureStartID: "0", Block: 20 * time.Millisecond})
	}()
	select {
	case <-consumed:
	case err := <-done:
		t.Fatalf("consume loop ended: %v", err)
	case <-timeout(t):
		t.Fatal("consume loop handled nothing")
	}
	cancel()
	check("stream.consume", <-done)

	// A dead letter moved back to its stream (XDEL, XADD and a marker key, in one script).
	_, err = st.Streams.Append(ctx, "r:dead", streams.DeadLetter{Stream: "r", Group: "g", Consumer: "c", ID: "1-1",
		Error: "boom", Deliveries: 1, Message: []byte(`"again"`)}, streams.AppendOptions{})
	check("stream.append dead letter", err)
	res, err := st.Streams.Redrive(ctx, "r", streams.RedriveOptions{})
	check("stream.redrive", err)
	if res.Moved != 1 {
		t.Fatalf("redrive = %+v", res)
	}
}

var _ = events.Message{} // the smoke set subscribes with raw handlers
