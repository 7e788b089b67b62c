package client_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/events"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
)

// signalsOf forwards the observer signals of one kind to a channel.
func signalsOf(kind ops.SignalKind) (ops.Observer, chan ops.Signal) {
	ch := make(chan ops.Signal, 64)
	return ops.ObserverFunc(func(ctx context.Context, s ops.Signal) {
		if s.Kind == kind {
			select {
			case ch <- s:
			default:
			}
		}
	}), ch
}

// After CLIENT KILL TYPE pubsub, every channel and pattern is subscribed again exactly once,
// and every live subscription receives again.
func TestEventsResubscribeAfterClientKill(t *testing.T) {
	srv := redistest.Start(t)
	raw := srv.Client(t)
	obs, reconnected := signalsOf(ops.SignalReconnected)
	st, err := client.New().WithService("api").WithAdapter(client.Redis(srv.Client(t))).WithObserver(obs).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	scoped := st.MustScope("org", "o1")

	type target struct {
		store   *client.Store
		event   string // subscribed
		publish string // published after the kill
	}
	targets := []target{
		{st, "user:created", "user:created"},
		{st, "user:created", "user:created"}, // second handler on the same channel
		{st, "order:paid", "order:paid"},
		{scoped, "user:created", "user:created"},
		{st, "audit:*", "audit:login"},
	}
	boxes := make([]*inbox, len(targets))
	for i, tg := range targets {
		boxes[i] = newInbox()
		sub, err := tg.store.Events.Subscribe(ctx, tg.event, boxes[i].handler)
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
	}

	stop := srv.Monitor(t)
	n, err := raw.Do(ctx, "CLIENT", "KILL", "TYPE", "pubsub").Int()
	if err != nil || n != 1 {
		t.Fatalf("CLIENT KILL TYPE pubsub killed %d connections (%v), want the store's one", n, err)
	}
	select {
	case sig := <-reconnected:
		if sig.N != 4 { // 3 channels + 1 pattern
			t.Fatalf("reconnected signal N = %d, want 4", sig.N)
		}
	case <-timeout(t):
		t.Fatal("no reconnect signal")
	}
	for i, tg := range targets {
		if err := tg.store.Events.Publish(ctx, tg.publish, i); err != nil {
			t.Fatal(err)
		}
	}
	for i, box := range boxes {
		got := box.next(t)
		// The two handlers of user:created see both unscoped publishes (0 and 1).
		if want := fmt.Sprint(i); targets[i].event != "user:created" || targets[i].store != st {
			if string(got.Data) != want {
				t.Fatalf("target %d received %s, want %s", i, got.Data, want)
			}
		}
	}
	cmds := stop()

	counts := map[string]int{}
	for _, c := range cmds {
		switch strings.ToLower(c[0]) {
		case "subscribe", "psubscribe", "unsubscribe", "punsubscribe":
			for _, ch := range c[1:] {
				counts[strings.ToLower(c[0])+" "+ch]++
			}
		}
	}
	want := map[string]int{
		"subscribe igniter:store:api:events:user:created":        1,
		"subscribe igniter:store:api:events:order:paid":          1,
		"subscribe igniter:store:api:org:o1:events:user:created": 1,
		"psubscribe igniter:store:api:events:audit:*":            1,
	}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Fatalf("resubscriptions = %v\nwant %v", counts, want)
	}
}

// One SUBSCRIBE per channel however many handlers; UNSUBSCRIBE only when the last one closes;
// Close is idempotent.
func TestEventsOneSubscribePerChannel(t *testing.T) {
	srv := redistest.Start(t)
	st, err := client.New().WithService("api").WithAdapter(client.Redis(srv.Client(t))).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	h := func(context.Context, events.Message) error { return nil }

	stop := srv.Monitor(t)
	var subs []events.Subscription
	for range 3 {
		sub, err := st.Events.Subscribe(ctx, "user:created", h)
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, sub)
	}
	for _, sub := range subs[:2] {
		if err := sub.Close(); err != nil {
			t.Fatal(err)
		}
	}
	mid := stop()
	stop = srv.Monitor(t)
	if err := subs[2].Close(); err != nil {
		t.Fatal(err)
	}
	if err := subs[2].Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	end := stop()

	if got := commandsNamed(mid, "subscribe"); got != 1 {
		t.Fatalf("%d SUBSCRIBE for 3 handlers: %q", got, mid)
	}
	if got := commandsNamed(mid, "unsubscribe"); got != 0 {
		t.Fatalf("UNSUBSCRIBE while a handler remained: %q", mid)
	}
	if got := commandsNamed(end, "unsubscribe"); got != 1 {
		t.Fatalf("%d UNSUBSCRIBE after the last Close: %q", got, end)
	}
}

func commandsNamed(cmds [][]string, name string) int {
	n := 0
	for _, c := range cmds {
		if strings.EqualFold(c[0], name) {
			n++
		}
	}
	return n
}

// A server restart (connections refused for a while) is ridden out too: the receive loop backs
// off, reconnects, resubscribes, and delivery resumes.
func TestEventsResubscribeAfterServerRestart(t *testing.T) {
	srv := redistest.Start(t)
	obs, reconnected := signalsOf(ops.SignalReconnected)
	st, err := client.New().WithService("api").WithAdapter(client.Redis(srv.Client(t))).WithObserver(obs).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	exact, pattern := subscribeExactAndPattern(ctx, t, st)
	srv.Restart()
	awaitReconnect(t, reconnected, 2, "no reconnect after restart")
	if err := st.Events.Publish(ctx, "user:created", "again"); err != nil {
		t.Fatal(err)
	}
	for _, box := range []*inbox{exact, pattern} {
		if m := box.next(t); string(m.Data) != `"again"` {
			t.Fatalf("received %s", m.Data)
		}
	}
}

// subscribeExactAndPattern subscribes one inbox to "user:created" and one to the pattern "user:*".
func subscribeExactAndPattern(ctx context.Context, t *testing.T, st *client.Store) (exact, pattern *inbox) {
	t.Helper()
	exact, pattern = newInbox(), newInbox()
	if _, err := st.Events.Subscribe(ctx, "user:created", exact.handler); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Events.Subscribe(ctx, "user:*", pattern.handler); err != nil {
		t.Fatal(err)
	}
	return exact, pattern
}

// awaitReconnect waits for a SignalReconnected and checks how many channels and patterns it
// resubscribed; failing says what did not happen.
func awaitReconnect(t *testing.T, reconnected <-chan ops.Signal, subscriptions int64, failing string) {
	t.Helper()
	select {
	case sig := <-reconnected:
		if sig.N != subscriptions {
			t.Fatalf("reconnected with %d subscriptions, want %d", sig.N, subscriptions)
		}
	case <-timeout(t):
		t.Fatal(failing)
	}
}
