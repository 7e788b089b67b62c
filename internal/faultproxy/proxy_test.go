package faultproxy_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/internal/faultproxy"
	"github.com/igniter-go/store/internal/redistest"
)

// An armed INCR runs on the server, its reply never reaches the client, and the next INCR
// passes through.
func TestDropReplyToRunsTheCommandAndLosesTheReply(t *testing.T) {
	_, p, via := proxied(t)
	ctx := context.Background()
	fired := p.DropReplyTo("INCR")
	if err := via.Incr(ctx, "n").Err(); !errors.Is(err, io.EOF) {
		t.Fatalf("INCR through an armed proxy: %v, want EOF", err)
	}
	<-fired
	if n, err := via.Incr(ctx, "n").Result(); err != nil || n != 2 {
		t.Fatalf("second INCR = %d %v, want 2 (the first ran)", n, err)
	}
	if got := p.Count("incr"); got != 2 {
		t.Fatalf("proxy forwarded %d INCRs, want 2", got)
	}
}

// Freeze silences the connections open now (the command never reaches the server, the client
// times out) and lets new ones through; StallAll silences new ones too.
func TestFreezeSilencesOpenConnectionsAndStallAllEveryConnection(t *testing.T) {
	srv := redistest.Start(t)
	p := faultproxy.Start(t, srv.Addr)
	ctx := context.Background()
	dial := func() *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: p.Addr, MaxRetries: -1, PoolSize: 1, ReadTimeout: 200 * time.Millisecond})
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	first := dial()
	if err := first.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	p.Freeze()
	if err := first.Incr(ctx, "n").Err(); err == nil {
		t.Fatal("INCR on a frozen connection answered")
	}
	if p.Count("incr") != 1 {
		t.Fatalf("the proxy read %d INCRs, want 1", p.Count("incr"))
	}
	if n, err := srv.Client(t).Get(ctx, "n").Result(); !errors.Is(err, redis.Nil) {
		t.Fatalf("the frozen INCR reached the server: n=%q %v", n, err)
	}
	if err := dial().Ping(ctx).Err(); err != nil {
		t.Fatalf("a connection made after Freeze: %v", err)
	}
	p.StallAll()
	if err := dial().Ping(ctx).Err(); err == nil {
		t.Fatal("a connection made after StallAll answered")
	}
}

// proxied starts a server, a proxy in front of it and a connected client (no retries) through
// the proxy.
func proxied(t *testing.T) (*redistest.Server, *faultproxy.Proxy, *redis.Client) {
	t.Helper()
	srv := redistest.Start(t)
	p := faultproxy.Start(t, srv.Addr)
	via := redis.NewClient(&redis.Options{Addr: p.Addr, MaxRetries: -1})
	t.Cleanup(func() { via.Close() })
	if err := via.Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	return srv, p, via
}
