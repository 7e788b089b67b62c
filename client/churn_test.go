package client_test

import (
	"context"
	"log/slog"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/events"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/streams"
	"github.com/igniter-go/store/telemetry"
	"github.com/igniter-go/store/telemetry/opsprom"
)

// churnOnce builds a store with metrics and telemetry, subscribes once, runs a consume loop
// until it handled one entry, runs a few ops, and closes the store.
func churnOnce(t *testing.T, addr string, i int) {
	t.Helper()
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, ContextTimeoutEnabled: true})
	st, err := client.New().WithService("churn").WithAdapter(client.Redis(rdb, client.OwnClient())).
		WithMetrics(opsprom.New()).
		WithTelemetry(telemetry.NewSlogSink(slog.New(slog.DiscardHandler))).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	tenant := st.MustScope("tenant", strconv.Itoa(i%7))
	sub, err := tenant.Events.Subscribe(ctx, "user:created", func(context.Context, events.Message) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sub.Close() }()
	if err := tenant.KV.Set(ctx, "k", i, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := tenant.Counter.Increment(ctx, "n"); err != nil {
		t.Fatal(err)
	}
	if _, err := tenant.Streams.Append(ctx, "s", i, streams.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	handled := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- tenant.Streams.Group("g", "c").Consume(cctx, "s", func(context.Context, streams.Entry) error {
			select {
			case handled <- struct{}{}:
			default:
			}
			return nil
		}, streams.ConsumeOptions{Block: 50 * time.Millisecond, LagInterval: -1, ClaimIdle: -1})
	}()
	<-handled
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

// heapInUse returns the live heap after two full collections.
func heapInUse() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

func connectedClients(t *testing.T, raw *redis.Client) int {
	t.Helper()
	return redistest.InfoInt(t, raw, "clients", "connected_clients")
}

// waitFor polls cond (the server closes connections asynchronously after the client did).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: did not return to the baseline", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Building and closing stores (metrics, telemetry, a subscription, a consume loop, a few ops)
// leaves nothing behind: heap in use, goroutines and the server's connected clients return to
// their baseline. The heap is compared between a short and a long run, so a per-store slope
// (tens of KB a store before the core owned its state) cannot hide in a constant.
func TestStoreChurnReturnsToBaseline(t *testing.T) {
	srv := redistest.Start(t)
	raw := srv.Client(t)
	const warm, short, long = 20, 200, 2000
	for i := range warm { // package-level lazies (scripts, pools, catalog) settle first
		churnOnce(t, srv.Addr, i)
	}
	goroutines := runtime.NumGoroutine()
	clients := connectedClients(t, raw)
	base := heapInUse()
	for i := range short {
		churnOnce(t, srv.Addr, i)
	}
	afterShort := heapInUse()
	for i := range long - short {
		churnOnce(t, srv.Addr, i)
	}
	afterLong := heapInUse()
	waitFor(t, "goroutines", func() bool { return runtime.NumGoroutine() <= goroutines })
	waitFor(t, "connected clients", func() bool { return connectedClients(t, raw) <= clients })
	slope := (float64(afterLong) - float64(afterShort)) / float64(long-short)
	t.Logf("heap in use: base %d B, after %d stores %d B, after %d stores %d B: %.0f B a store",
		base, short, afterShort, long, afterLong, slope)
	// A leak of the core alone is tens of KB a store (57 KB measured before the core owned its
	// state); allow 4 KiB a store for the runtime's and go-redis's own growth and GC noise when
	// other tests of the package ran before.
	if afterLong > afterShort+(long-short)*4<<10 {
		t.Fatalf("heap grew by %d B over %d more stores (%.0f B a store): closed stores stay reachable",
			afterLong-afterShort, long-short, slope)
	}
}
