package leader

import (
	crand "crypto/rand"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/ops"
)

// Defaults of [Options].
const (
	// DefaultTTL is the lease TTL: how long a dead leader's lease outlives it, so the longest
	// time without a leader after a crash.
	DefaultTTL = 10 * time.Second
	// MinTTL is the smallest TTL accepted. A term needs TTL/3 of its lease certainly left, after
	// the drift margin (TTL/100 + 2 ms) and the acquire's round trip, to begin at all
	// ([client.Lease.Hold]); much shorter leases would be acquired and given back forever.
	MinTTL = 10 * time.Millisecond
)

// Options configure an [Election]. The zero value is valid: every zero field means its default.
type Options struct {
	// TTL is the lease's time to live. A leader that dies without resigning is replaced at most
	// TTL (plus one RetryInterval) later; a leader extends its lease every TTL/3. Default
	// [DefaultTTL]; it must not be negative, nor below [MinTTL], nor above [client.MaxTTL].
	TTL time.Duration
	// RetryInterval is how often a candidate tries to take a held lease, and how long it waits
	// after a failed attempt (Redis unavailable). Each pause is drawn between half of it and all
	// of it. Default: TTL/10.
	RetryInterval time.Duration
	// ID names this candidate in the leader record ([Election.Leader]). It is not a secret and
	// not the lease's owner token. Default: 10 random characters.
	ID string
}

func (o Options) withDefaults() (Options, error) {
	if o.TTL < 0 || o.RetryInterval < 0 {
		return o, ops.Invalid(ops.CodeConfigurationInvalid, "leader.options",
			"leader.Options.TTL and RetryInterval must not be negative", nil)
	}
	if o.TTL == 0 {
		o.TTL = DefaultTTL
	}
	if o.TTL > client.MaxTTL {
		return o, ops.Invalid(ops.CodeConfigurationInvalid, "leader.options",
			"leader.Options.TTL must be at most "+client.MaxTTL.String()+", got "+o.TTL.String(), map[string]any{"ttl": o.TTL.String()})
	}
	if o.TTL < MinTTL {
		return o, ops.Invalid(ops.CodeConfigurationInvalid, "leader.options",
			"leader.Options.TTL must be at least "+MinTTL.String()+", got "+o.TTL.String(), map[string]any{"ttl": o.TTL.String()})
	}
	if o.RetryInterval == 0 {
		o.RetryInterval = max(o.TTL/10, time.Millisecond)
	}
	if o.ID == "" {
		o.ID = crand.Text()[:10]
	}
	return o, nil
}
