package faultproxy_test

import (
	"context"
	"testing"
)

// A held INCR runs on the server at once; its reply reaches the client only after release.
func TestHoldReplyToRunsTheCommandAndDelaysTheReply(t *testing.T) {
	srv, p, via := proxied(t)
	ctx := context.Background()
	held, release := p.HoldReplyTo("INCR")
	got := make(chan int64, 1)
	go func() { got <- via.Incr(ctx, "n").Val() }()
	<-held
	if n, err := srv.Client(t).Get(ctx, "n").Int64(); err != nil || n != 1 {
		t.Fatalf("while the reply is held the server has n=%d (%v), want 1: the command ran", n, err)
	}
	select {
	case n := <-got:
		t.Fatalf("the client got %d while the reply was held", n)
	default:
	}
	release()
	if n := <-got; n != 1 {
		t.Fatalf("released reply: %d, want 1", n)
	}
	if n := via.Incr(ctx, "n").Val(); n != 2 {
		t.Fatalf("next INCR: %d, want 2 (passes through)", n)
	}
}
