package faultproxy_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/igniter-go/store/internal/faultproxy"
)

// A SlowDial with a delay holds a dial until the delay passes or the dial's ctx ends (here the
// ctx ends first: the dial fails with its error, where an undelayed dial connects); without
// one it dials at once, through the dialer it wraps.
func TestSlowDialHoldsNewConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	var s faultproxy.SlowDial
	wrapped := 0
	dial := s.Dialer(func(ctx context.Context, network, addr string) (net.Conn, error) {
		wrapped++
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	})

	s.Set(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if c, err := dial(ctx, "tcp", ln.Addr().String()); !errors.Is(err, context.DeadlineExceeded) {
		if c != nil {
			_ = c.Close()
		}
		t.Fatalf("a dial held for an hour under a 50ms ctx: %v, want its deadline", err)
	}
	if wrapped != 0 {
		t.Fatal("the held dial reached the wrapped dialer")
	}

	s.Set(0)
	c, err := dial(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("a dial without delay: %v", err)
	}
	_ = c.Close()
	if wrapped != 1 {
		t.Fatalf("the wrapped dialer ran %d times, want 1", wrapped)
	}
}
