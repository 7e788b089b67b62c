package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/faultproxy"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
)

// A subscriber connection that goes silent without closing (half-open) is detected by the
// health check, replaced, and every channel and pattern receives again.
func TestEventsHalfOpenConnectionReplaced(t *testing.T) {
	srv := redistest.Start(t)
	proxy := faultproxy.Start(t, srv.Addr)
	obs, reconnected := signalsOf(ops.SignalReconnected)
	rdb := redis.NewClient(&redis.Options{Addr: proxy.Addr, MaxRetries: -1, ContextTimeoutEnabled: true})
	st, err := client.New().WithService("api").WithAdapter(client.Redis(rdb, client.OwnClient())).WithObserver(obs).WithHealthCheck(100 * time.Millisecond).Build()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	exact, pattern := subscribeExactAndPattern(ctx, t, st)
	proxy.Freeze()
	awaitReconnect(t, reconnected, 2, "the silent connection was not replaced")
	// Publish directly (the store's own pooled connection is frozen too).
	direct := srv.Client(t)
	if err := direct.Publish(ctx, "igniter:store:api:events:user:created", `"after"`).Err(); err != nil {
		t.Fatal(err)
	}
	for _, box := range []*inbox{exact, pattern} {
		if m := box.next(t); string(m.Data) != `"after"` {
			t.Fatalf("received %s", m.Data)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}
