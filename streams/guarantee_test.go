package streams_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/streams"
)

// consumeLoop runs g's consume loop on stream in the background; stop ends it and checks it
// ended cleanly.
func consumeLoop(t *testing.T, g streams.Group, stream string, h streams.Handler, opts streams.ConsumeOptions) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Consume(ctx, stream, h, opts) }()
	return func() {
		t.Helper()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("consume %s: %v", stream, err)
		}
	}
}

// await waits for a value on ch, failing the test after a generous guard.
func await[T any](t *testing.T, what string, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	panic("unreachable")
}

// Two groups read one stream. Group billing fails on an order and dead-letters it; group email
// handled and acked it. Redriving billing's dead letter delivers the order again to billing only:
// email's loop acks the redriven entry without calling its handler and reports it
// (SignalRedriveSkipped), and a group created after the redrive handles the order once, too.
// Normal entries keep their wire format (a single data field); the redriven one names its group
// in streams.RedriveGroupField.
func TestGuaranteeRedriveReachesOnlyTheDeadLetteringGroup(t *testing.T) {
	skipped := make(chan ops.Signal, 16)
	dead := make(chan ops.Signal, 16)
	obs := newStreamSignals(func(s ops.Signal) {
		switch s.Kind {
		case ops.SignalRedriveSkipped:
			skipped <- s
		case ops.SignalDeadLettered:
			dead <- s
		}
	})
	env := newStreamEnv(t, func(b *client.Builder) *client.Builder { return b.WithObserver(obs) })
	st, ctx := env.st, context.Background()
	for _, g := range []string{"billing", "email"} {
		if err := st.Streams.Group(g, "w1").Ensure(ctx, "orders", streams.EnsureOptions{StartID: "0"}); err != nil {
			t.Fatal(err)
		}
	}
	poisonID, err := st.Streams.Append(ctx, "orders", order{N: 1}, streams.AppendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	opts := streams.ConsumeOptions{Concurrency: 1, MaxDeliveries: 1, Block: 20 * time.Millisecond, LagInterval: -1}

	// handled counts, per group, the orders its handler saw, and sends each on seen.
	var mu sync.Mutex
	handled := map[string]map[int]int{}
	seen := make(chan string, 64)
	handler := func(group string, fail bool) streams.Handler {
		return func(_ context.Context, e streams.Entry) error {
			var o order
			if err := e.Decode(&o); err != nil {
				return err
			}
			mu.Lock()
			if handled[group] == nil {
				handled[group] = map[int]int{}
			}
			handled[group][o.N]++
			mu.Unlock()
			seen <- fmt.Sprintf("%s:%d", group, o.N)
			if fail && o.N == 1 {
				return fmt.Errorf("order %d: tax service rejected it", o.N)
			}
			return nil
		}
	}
	count := func(group string, n int) int {
		mu.Lock()
		defer mu.Unlock()
		return handled[group][n]
	}

	// email handles order 1; billing fails it, and it is dead-lettered (MaxDeliveries 1).
	stopEmail := consumeLoop(t, st.Streams.Group("email", "w1"), "orders", handler("email", false), opts)
	defer stopEmail()
	stopBilling := consumeLoop(t, st.Streams.Group("billing", "w1"), "orders", handler("billing", true), opts)
	if s := await(t, "the dead letter", dead); s.Group != "billing" {
		t.Fatalf("dead-lettered by %q", s.Group)
	}
	stopBilling()
	for count("email", 1) != 1 {
		await(t, "email handling order 1", seen)
	}

	res, err := st.Streams.Redrive(ctx, "orders", streams.RedriveOptions{})
	if err != nil || res.Moved != 1 {
		t.Fatalf("redrive: %+v %v", res, err)
	}
	// A sentinel after the redriven entry: email reaching it has passed the redriven one.
	if _, err := st.Streams.Append(ctx, "orders", order{N: 2}, streams.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	for count("email", 2) != 1 {
		await(t, "email handling the sentinel", seen)
	}
	if s := await(t, "email skipping the redriven entry", skipped); s.Group != "email" || s.Name != "orders" {
		t.Fatalf("skip signal %+v", s)
	}
	if got := count("email", 1); got != 1 {
		t.Fatalf("group email handled order 1 %d times; it had acked it before billing's redrive", got)
	}

	// billing, fixed, handles the redriven order once (and the sentinel).
	stopBilling = consumeLoop(t, st.Streams.Group("billing", "w1"), "orders", handler("billing", false), opts)
	for count("billing", 2) != 1 {
		await(t, "billing handling the redriven order and the sentinel", seen)
	}
	stopBilling()
	if got := count("billing", 1); got != 2 { // the failed delivery, then the redriven one
		t.Fatalf("billing handled order 1 %d times, want 2 (the failure, the redrive)", got)
	}

	// A group created after the redrive, from the start, handles the order once: the original.
	if err := st.Streams.Group("audit", "w1").Ensure(ctx, "orders", streams.EnsureOptions{StartID: "0"}); err != nil {
		t.Fatal(err)
	}
	stopAudit := consumeLoop(t, st.Streams.Group("audit", "w1"), "orders", handler("audit", false), opts)
	for count("audit", 2) != 1 {
		await(t, "audit reaching the sentinel", seen)
	}
	await(t, "audit skipping the redriven entry", skipped)
	stopAudit()
	if got := count("audit", 1); got != 1 {
		t.Fatalf("group audit handled order 1 %d times, want 1", got)
	}

	// Nothing is left pending for the groups that skipped it.
	for _, g := range []string{"email", "audit"} {
		p, err := env.raw.XPending(ctx, "igniter:store:api:streams:orders", g).Result()
		if err != nil || p.Count != 0 {
			t.Fatalf("group %s: %d pending %v", g, p.Count, err)
		}
	}
	// Wire format: the original entry holds data only; the redriven one adds the target group.
	entries, err := env.raw.XRange(ctx, "igniter:store:api:streams:orders", "-", "+").Result()
	if err != nil || len(entries) != 3 {
		t.Fatalf("stream: %v %v", entries, err)
	}
	if len(entries[0].Values) != 1 || entries[0].Values["data"] != `{"n":1}` || entries[0].ID != poisonID {
		t.Fatalf("original entry %v", entries[0].Values)
	}
	if r := entries[1].Values; r["data"] != `{"n":1}` || r[streams.RedriveGroupField] != "billing" || r[streams.RedriveOriginField] != poisonID {
		t.Fatalf("redriven entry %v", r)
	}
}
