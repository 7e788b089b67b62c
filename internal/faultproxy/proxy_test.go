package faultproxy_test

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/internal/faultproxy"
	"github.com/igniter-go/store/internal/redistest"
)

// An armed INCR runs on the server, its reply never reaches the client, and the next INCR
// passes through.
func TestDropReplyToRunsTheCommandAndLosesTheReply(t *testing.T) {
	srv := redistest.Start(t)
	p := faultproxy.Start(t, srv.Addr)
	ctx := context.Background()
	via := redis.NewClient(&redis.Options{Addr: p.Addr, MaxRetries: -1})
	defer via.Close()
	if err := via.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
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
