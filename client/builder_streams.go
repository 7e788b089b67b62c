package client

import (
	"fmt"
	"time"

	"github.com/igniter-go/store/ops"
)

// streamsConfig is the builder's streams configuration.
type streamsConfig struct {
	conns int // connections of their own for blocking reads; 0 = blockconn.DefaultSize
}

func (c streamsConfig) clone() streamsConfig { return c }

// WithStreamConnections sets how many connections blocking stream reads ([Group.Read] with
// a Block, and every [Group.Consume] loop) may hold at once. They are connections of their
// own, opened on first use from the adapter's client options and closed by client.Store.Close, so a
// blocking read never holds up another operation of the store (the original runs it on the shared
// connection and stalls every command while it waits). More blocking reads than connections
// queue for one, in order, honouring their ctx. n < 1 is STORE_CONFIGURATION_INVALID at Build.
// Default: 8.
func (b *Builder) WithStreamConnections(n int) *Builder {
	if n < 1 {
		return b.fail(ops.Invalid(ops.CodeConfigurationInvalid, "build",
			fmt.Sprintf("stream connections must be at least 1, got %d", n), map[string]any{"streamConnections": n}))
	}
	c := b.clone()
	c.streams.conns = n
	return c
}

// DefaultHealthCheck is how long a subscriber connection may stay silent before the store pings
// it: [Builder.WithHealthCheck].
const DefaultHealthCheck = 30 * time.Second

// WithHealthCheck sets how long the pub/sub connection may receive nothing before the store
// pings it. A ping left unanswered for another interval means the connection is dead (a
// half-open TCP connection reports nothing): it is replaced and every channel and pattern
// subscribed again. d ≤ 0 is STORE_CONFIGURATION_INVALID at Build. Default: 30s
// ([DefaultHealthCheck]).
func (b *Builder) WithHealthCheck(d time.Duration) *Builder {
	if d <= 0 {
		return b.fail(ops.Invalid(ops.CodeConfigurationInvalid, "build",
			fmt.Sprintf("the health check interval must be positive, got %s", d), map[string]any{"healthCheck": d.String()}))
	}
	c := b.clone()
	c.health = d
	return c
}
