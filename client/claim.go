package client

import (
	"context"
	"errors"
	"time"

	"github.com/igniter-go/store/internal/codec"
	"github.com/igniter-go/store/internal/keyspace"
	"github.com/igniter-go/store/ops"
)

// Claim takes claims and leases in the claim namespace.
//
// A claim ([Claim.Once]) is the original's: the owner you pass, JSON-encoded, under
// igniter:store:…:claim:<key>; [Claim.Release] gives it back only if you still own it. A lease
// ([Claim.Acquire], [Claim.Hold]) lives in the same key, owned by a random token, and adds an
// owner-checked extend, a wait-and-retry acquisition and a fencing token (lease.go). Claims and
// leases on one key exclude each other.
type Claim struct{ s *Store }

// Once claims key for owner if nobody holds it, and reports whether this call got it. The owner
// is stored as JSON, as the original stores it ("w1" is stored as "\"w1\""). With a ttl the claim
// expires (SET key owner EX|PX ttl NX); with ttl 0 it never does (SETNX). Negative ttl is
// STORE_TTL_INVALID. An owner holding a string that is not valid UTF-8 is
// STORE_SERIALIZATION_FAILED, for Once and Release alike: JSON would store every invalid byte as
// U+FFFD, and two such owners would then be one. A Node service shares claims only with owners
// whose JSON is the same bytes in both languages (docs/interop.md): not U+2028 or U+2029, which
// Go escapes and Node writes raw.
func (c Claim) Once(ctx context.Context, key string, owner any, ttl time.Duration) (bool, error) {
	ttl, err := ttlOf(ops.ClaimOnce, ttl)
	return c.ownerOp(ctx, ops.ClaimOnce, key, owner, ttl, err)
}

// Release gives back the claim on key if owner holds it, and reports whether it did. It deletes
// the key only when its stored value equals owner's JSON encoding, compared and deleted in one
// Lua script, so it never deletes a claim that expired and was taken by someone else meanwhile.
// It works on claims the original wrote (both store the owner as JSON).
//
// Nobody holding the claim (never taken, expired, released) is (false, nil). Another owner
// holding it is (false, STORE_CLAIM_NOT_OWNER), an ops.ErrConflict.
func (c Claim) Release(ctx context.Context, key string, owner any) (bool, error) {
	return c.ownerOp(ctx, ops.ClaimRelease, key, owner, 0, nil)
}

// ownerOp runs a claim op on key carrying owner's JSON (and ttl), or rejects it with the first of
// ttlErr, an empty key and an owner that cannot be encoded.
func (c Claim) ownerOp(ctx context.Context, kind ops.Kind, key string, owner any, ttl time.Duration, ttlErr error) (bool, error) {
	s := c.s
	op := s.op(kind)
	op.TTL = ttl
	err := ttlErr
	if err == nil && key == "" {
		err = errKeyRequired(kind)
	}
	if err == nil {
		op.Value, err = encode(kind, owner)
	}
	if err == nil && codec.ReplacedInvalidUTF8(op.Value) {
		err = ops.NewError(ops.CodeSerializationFailed, kind.Operation(),
			"Owner holds a string that is not valid UTF-8: JSON writes every invalid byte as U+FFFD, so two such owners would compare equal and one could release the other's claim",
			errInvalidUTF8Owner)
	}
	if err != nil {
		_, err = s.reject(ctx, op, err)
		return false, err
	}
	op.Key = s.prefix.Key(keyspace.NamespaceClaim, key)
	res, err := s.do(ctx, op)
	return res.Bool, err
}

// errInvalidUTF8Owner is the cause of the STORE_SERIALIZATION_FAILED a claim owner holding invalid
// UTF-8 gets.
var errInvalidUTF8Owner = errors.New("claim owner is not valid UTF-8")
