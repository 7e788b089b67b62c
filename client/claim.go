package client

import (
	"context"
	"time"

	"github.com/igniter-go/store/internal/keyspace"
	"github.com/igniter-go/store/ops"
)

// Claim takes claims in the claim namespace.
type Claim struct{ s *Store }

// Once claims key for owner if nobody holds it, and reports whether this call got it. The owner
// is stored as JSON, as the original stores it ("w1" is stored as "\"w1\""). With a ttl the claim
// expires (SET key owner EX|PX ttl NX); with ttl 0 it never does (SETNX). Negative ttl is
// STORE_TTL_INVALID.
func (c Claim) Once(ctx context.Context, key string, owner any, ttl time.Duration) (bool, error) {
	s := c.s
	op := s.op(ops.ClaimOnce)
	var err error
	if op.TTL, err = ttlOf(ops.ClaimOnce, ttl); err == nil {
		if key == "" {
			err = errKeyRequired(ops.ClaimOnce)
		} else {
			op.Value, err = encode(ops.ClaimOnce, owner)
		}
	}
	if err != nil {
		_, err = s.reject(ctx, op, err)
		return false, err
	}
	op.Key = s.prefix.Key(keyspace.NamespaceClaim, key)
	res, err := s.do(ctx, op)
	return res.Bool, err
}
