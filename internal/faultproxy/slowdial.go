package faultproxy

import (
	"context"
	"net"
	"sync/atomic"
	"time"
)

// SlowDial delays new connections: while a delay is set, each dial of its Dialer waits that long
// (or until the dial's ctx ends) before it connects, as when a SYN is lost and retransmitted (1 s
// on Linux) or a loaded server accepts late. Connections already open are untouched. A command
// that needs a new connection waits for the dial: a go-redis pipeline that passed its hooks
// before it took a connection (the store's pipeline drops a command whose caller left only up
// to there) then writes its batch when the dial completes, after callers of it may have left —
// which none of the proxy's other faults, all on open connections, produce. The zero value
// dials at once; it is safe for concurrent use.
type SlowDial struct{ d atomic.Int64 }

// Set sets the delay of every dial that starts from now on; 0 turns it off.
func (s *SlowDial) Set(delay time.Duration) { s.d.Store(int64(delay)) }

// Dialer returns a go-redis Options.Dialer that waits for the delay and then dials with next
// (nil: a net.Dialer), so it wraps another fault's dialer.
func (s *SlowDial) Dialer(next func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if next == nil {
		var d net.Dialer
		next = d.DialContext
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if delay := time.Duration(s.d.Load()); delay > 0 {
			t := time.NewTimer(delay) // the fault itself: the connection comes late
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return nil, &net.OpError{Op: "dial", Net: network, Err: ctx.Err()}
			}
		}
		return next(ctx, network, addr)
	}
}
