package client

import "github.com/igniter-go/store/ops"

// DefaultMaxPayload is the default maximum inbound payload: 1 MiB.
const DefaultMaxPayload = 1 << 20

// limitsConfig bounds what the store accepts from Redis.
type limitsConfig struct {
	maxPayload int // 0: DefaultMaxPayload
}

// payload returns the maximum inbound payload, the default applied.
func (l limitsConfig) payload() int {
	if l.maxPayload == 0 {
		return DefaultMaxPayload
	}
	return l.maxPayload
}

// WithMaxPayload sets the largest inbound payload, in bytes, the store decodes: a pub/sub message
// (the whole envelope as received) or a stream entry's data field. Redis is shared and untrusted:
// any client may publish or append anything. A larger message is dropped before it is decoded,
// counted (a message_invalid signal) and reported to the subscription's error callback and the
// log as STORE_MESSAGE_INVALID wrapping [events.ErrPayloadTooLarge]. 0 means
// [DefaultMaxPayload]; a negative n is STORE_CONFIGURATION_INVALID at Build.
func (b *Builder) WithMaxPayload(n int) *Builder {
	if n < 0 {
		return b.fail(ops.Invalid(ops.CodeConfigurationInvalid, "build", "WithMaxPayload needs a positive size (0: the default)", nil))
	}
	c := b.clone()
	c.limits.maxPayload = n
	return c
}
