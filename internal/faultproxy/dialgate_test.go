package faultproxy_test

import (
	"context"
	"net"
	"testing"

	"github.com/igniter-go/store/internal/faultproxy"
)

// The dial after Arm waits until released, and closes dialing when it starts to; the next dial
// does not wait; release may be called twice.
func TestDialGateHoldsTheNextDialUntilReleased(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var g faultproxy.DialGate
	dialing, release := g.Arm()
	defer release()
	conns := make(chan net.Conn, 1)
	go func() {
		c, err := g.Dial(context.Background(), "tcp", ln.Addr().String())
		if err != nil {
			t.Error(err)
		}
		conns <- c
	}()
	<-dialing
	select {
	case <-conns:
		t.Fatal("the armed dial connected before its release")
	default:
	}
	release()
	release()
	(<-conns).Close()
	c, err := g.Dial(context.Background(), "tcp", ln.Addr().String()) // not armed: at once
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}
