package client_test

import (
	"context"
	"errors"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
)

// Ping answers through the chain on a live server, fails with a connection code on a dead one
// (Build itself succeeded: it never dials), needs no scope, and fails with STORE_CLOSED after
// Close.
func TestPingReportsReadiness(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	var seen []ops.Kind
	spy := func(next ops.Handler) ops.Handler {
		return func(ctx context.Context, op ops.Op) (ops.Result, error) {
			seen = append(seen, op.Kind)
			return next(ctx, op)
		}
	}
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, ContextTimeoutEnabled: true})
	st, err := client.New().WithService("api").AddScope("org", client.Required()).
		WithAdapter(client.Redis(rdb, client.OwnClient())).Use(spy).Build()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Ping(ctx); err != nil {
		t.Fatalf("ping a live server: %v", err)
	}
	if len(seen) != 1 || seen[0] != ops.StorePing {
		t.Fatalf("the ping did not pass through the chain: %v", seen)
	}
	srv.Kill()
	if err := st.Ping(ctx); !errors.Is(err, ops.ErrUnavailable) || ops.CodeOf(err) != ops.CodeConnectionFailed {
		t.Fatalf("ping a dead server: %v (code %s)", err, ops.CodeOf(err))
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Ping(ctx); ops.CodeOf(err) != ops.CodeClosed {
		t.Fatalf("ping a closed store: %v", err)
	}
}
