package faultproxy

import (
	"context"
	"net"
	"sync"
)

// DialGate holds back one dial at a point the test chooses, where SlowDial delays every dial by
// a time: after Arm, the next dial of its Dial waits until the test releases it. A command that
// needs a new connection then waits with it, past the store's drop check, while the test acts
// (lets its caller leave, writes something later) and decides when it is written. The zero value
// dials at once; it is safe for concurrent use.
type DialGate struct {
	mu      sync.Mutex
	armed   bool
	dialing chan struct{}
	release chan struct{}
}

// Arm holds the next dial: dialing is closed when it starts to wait, and release lets it connect.
// release may be called more than once (a deferred call after the test's own is harmless).
func (g *DialGate) Arm() (dialing <-chan struct{}, release func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	d, r := make(chan struct{}), make(chan struct{})
	g.armed, g.dialing, g.release = true, d, r
	var once sync.Once
	return d, func() { once.Do(func() { close(r) }) }
}

// Dial is a go-redis Options.Dialer: the dial after Arm waits for its release (not for its ctx:
// the connection comes when the test says), any other dials at once.
func (g *DialGate) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	g.mu.Lock()
	gated, dialing, release := g.armed, g.dialing, g.release
	g.armed = false
	g.mu.Unlock()
	if gated {
		close(dialing)
		<-release
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}
