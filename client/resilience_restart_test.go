package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
)

// TestConsumerAndSubscriptionSurviveDataLoss restarts a redis-server that keeps nothing (no
// persistence): the stream and its consumer group are gone after the restart, and the consume
// loop must create them again; the subscription must subscribe again.
func TestConsumerAndSubscriptionSurviveDataLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test")
	}
	srv := redistest.Start(t)
	tr := newTransitions()
	st, err := client.New().WithService("api").WithAdapter(client.Redis(srv.Client(t))).WithObserver(tr).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ps := startPubSubAndConsumer(t, st)
	ps.roundTrip(t, "before the kill")

	srv.Kill()
	// Calls fail until the breaker opens; then they are rejected at once.
	for range 10 {
		_, _ = st.KV.Exists(context.Background(), "k")
	}
	tr.await(t, "closed>open", 10*time.Second)
	srv.Restart()
	tr.await(t, "half-open>closed", 10*time.Second)
	tr.await(t, "reconnected", 10*time.Second)
	// The stream's entries must be gone. The key itself may already be back: the consumer
	// re-creates its group (XGROUP CREATE … MKSTREAM, an empty stream) as soon as a read gets
	// NOGROUP, which can happen before the subscription's reconnect is seen here.
	if n, err := srv.Client(t).XLen(context.Background(), "igniter:store:api:streams:jobs").Result(); err != nil || n != 0 {
		t.Fatalf("the restarted server must have lost the stream: %v entries, %v", n, err)
	}
	ps.event(t, "after a restart that lost every key")
	// The consume loop ensures its group again after NOGROUP, so the consumer resumes too.
	ps.entry(t, "after a restart that lost every key")
}
