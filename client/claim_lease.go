package client

import (
	"context"
	crand "crypto/rand"
	"time"

	"github.com/igniter-go/store/internal/keyspace"
	"github.com/igniter-go/store/ops"
)

// TryLease takes key for ttl if nobody holds it, as [Claim.Once] does (one SET NX PX under the
// claim key, owned by a random token), and returns it as a [*Lease] that can be extended, held
// ([Lease.Hold]) and released like one from [Claim.Acquire]; nil (and no error) when another
// owner holds the key.
//
// Unlike Acquire it keeps no fencing counter: [Lease.Fence] is 0 and nothing but the claim key
// (which expires) is written, so a TryLease on ever-new keys leaves nothing behind in Redis. Use
// it for short mutual exclusion where no storage checks a fence (the cache's load claim); use
// Acquire when a deposed holder's writes must be rejected. ttl must be positive
// (STORE_TTL_INVALID).
//
// The attempt is not retried by the store: a retry after a lost reply would find the key held by
// its own token and report it taken, so a lost reply leaves the key held until ttl passes.
func (c Claim) TryLease(ctx context.Context, key string, ttl time.Duration) (*Lease, error) {
	s := c.s
	op := s.op(ops.ClaimOnce)
	token := crand.Text()
	var err error
	switch {
	case key == "":
		err = errKeyRequired(ops.ClaimOnce)
	default:
		op.TTL, err = leaseTTL(ops.ClaimOnce, ttl)
	}
	if err == nil {
		op.Value, err = encode(ops.ClaimOnce, token)
	}
	if err != nil {
		_, err = s.reject(ctx, op, err)
		return nil, err
	}
	op.Key = s.prefix.Key(keyspace.NamespaceClaim, key)
	sent := time.Now()
	res, err := s.do(ctx, op)
	if err != nil || !res.Bool {
		return nil, err
	}
	return &Lease{s: s, key: key, redisKey: op.Key, owner: op.Value, token: token, ttl: op.TTL, acquiredAt: sent}, nil
}
