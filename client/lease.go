package client

import (
	"context"
	crand "crypto/rand"
	"strconv"
	"time"

	"github.com/igniter-go/store/internal/keyspace"
	"github.com/igniter-go/store/internal/pause"
	"github.com/igniter-go/store/ops"
)

// DefaultRetryInterval is the pause between acquisition attempts of [Claim.Acquire] when
// [AcquireOptions.Wait] is set and RetryInterval is not.
const DefaultRetryInterval = 25 * time.Millisecond

// AcquireOptions configure [Claim.Acquire]. The zero value tries once.
type AcquireOptions struct {
	// Wait is how long Acquire keeps trying while another owner holds the lease. 0 (default)
	// tries once. The ctx can end the wait sooner.
	Wait time.Duration
	// RetryInterval is the pause between attempts while waiting; each pause is drawn at random
	// between half of it and all of it, so waiters do not retry in step. Default
	// [DefaultRetryInterval].
	RetryInterval time.Duration
}

// Lease is a claim held by a random owner token until it expires, is released, or is lost.
// Get one from [Claim.Acquire]. Its value in Redis is the JSON-encoded token under the claim key,
// so [Claim.Once] on the same key fails while the lease is held, and [Claim.Release] with
// [Lease.Token] releases it. A Lease is immutable and safe for concurrent use.
type Lease struct {
	s          *Store
	key        string // the caller's key
	redisKey   string
	owner      []byte // the token as JSON: the stored value
	token      string
	fence      int64
	ttl        time.Duration
	acquiredAt time.Time // when the successful attempt was sent: the lease is valid until acquiredAt+ttl at most
}

// Key returns the key the lease was acquired on (without the store's prefix).
func (l *Lease) Key() string { return l.key }

// Token returns the lease's owner token: 26 random characters (128 bits from crypto/rand).
// Treat it as a secret: whoever has it can release the lease. The store never puts it in
// telemetry.
func (l *Lease) Token() string { return l.token }

// Fence returns the fencing token: a number that grows with every acquisition of the key, by
// anyone, and never repeats (it survives expiry and release). Pass it to the storage the lease
// guards and have that storage reject writes carrying a smaller token than one it has seen:
// a holder that stalled past its expiry then cannot overwrite its successor's work.
//
// A token is the larger of the key's previous token + 1 and the Redis server's clock (TIME) in
// microseconds since the Unix epoch when the lease is taken. So:
//   - while Redis keeps the counter, tokens strictly increase, whatever the clocks do;
//   - when Redis loses it (a restart without persistence, a failover to a replica that had not
//     received it, FLUSHALL), the next token comes from the clock alone, and is larger than
//     every earlier token unless the clock of the Redis server issuing it is behind the clock
//     that issued the earlier ones by more than the time between the two acquisitions (skew
//     between Redis hosts after a failover, or a clock stepped back). Two acquisitions of one
//     key are always more than a microsecond apart (the first lease must be released or expire
//     in between), so the counter never runs ahead of a clock that does not go back.
//
// Tokens are not consecutive. They stay below 2^53 (exact as JSON and JavaScript numbers) until
// the year 2255. A counter at or past 2^53 (written by a Redis clock set past 2255, or by hand)
// cannot count on exactly: Acquire then gives the lease back and fails with STORE_CLAIM_FAILED
// instead of handing out a token that may repeat, until the counter key (and the last token the
// fenced storage keeps) is reset by hand. Versions of this library that predate the clock floor (tokens counted from 1)
// increment the same counter, so tokens keep growing while both take the lease; only the
// clock floor makes them survive data loss.
//
// The counter is a key of its own that never expires, under the store's prefix and in the same
// Redis Cluster hash slot as the claim key igniter:store:…:claim:<key>:
// "<prefix>:claim.fence:{<n>}:<key>" with n a number that hashes to the claim key's slot (other
// shapes when a scope id holds braces; see fenceKey). So a Redis user confined to "<prefix>:*"
// ([Store.ACLRule]) can take leases. A counter that does not exist yet starts from the one earlier
// versions kept at "{<claim key>}:fence", so tokens keep growing across the upgrade; while old and
// new versions hold leases on the same key at the same time, the two counters are separate, so
// upgrade every process that takes a given lease before relying on its tokens.
func (l *Lease) Fence() int64 { return l.fence }

// TTL returns the lease's time to live, as acquired.
func (l *Lease) TTL() time.Duration { return l.ttl }

// String describes the lease without its token.
func (l *Lease) String() string {
	return "lease(fence " + strconv.FormatInt(l.fence, 10) + ", ttl " + l.ttl.String() + ")"
}

// Acquire takes a lease on key for ttl with a fresh random owner token, and returns it with its
// fencing token. ttl must be positive (STORE_TTL_INVALID otherwise; sub-millisecond parts round
// up). When another owner holds the key it fails with STORE_LEASE_NOT_ACQUIRED (an
// ops.ErrConflict), after waiting up to opts.Wait for the holder to let go; a ctx that ends
// while waiting gives STORE_CANCELED or STORE_TIMEOUT.
//
// Each attempt is one lease.acquire operation through the middleware chain: one Lua script that
// sets the claim key (SET PX, only if absent) and advances the key's fence counter (see
// [Lease.Fence]). An attempt that finds the lease taken succeeds with acquired=false, as
// claim.once does, so telemetry counts contention without reporting errors; the final
// STORE_LEASE_NOT_ACQUIRED goes to the caller only. An attempt is safe to retry (the store marks
// it idempotent): the script recognises its own token and returns the token's fence again.
func (c Claim) Acquire(ctx context.Context, key string, ttl time.Duration, opts AcquireOptions) (*Lease, error) {
	s := c.s
	op := s.op(ops.LeaseAcquire)
	token := crand.Text()
	var err error
	switch {
	case key == "":
		err = errKeyRequired(ops.LeaseAcquire)
	case opts.Wait < 0 || opts.RetryInterval < 0:
		err = ops.Invalid(ops.CodeConfigurationInvalid, ops.LeaseAcquire.Operation(),
			"AcquireOptions.Wait and RetryInterval must not be negative", nil)
	default:
		op.TTL, err = leaseTTL(ops.LeaseAcquire, ttl)
	}
	if err == nil {
		op.Value, err = encode(ops.LeaseAcquire, token)
	}
	if err != nil {
		_, err = s.reject(ctx, op, err)
		return nil, err
	}
	op.Key = s.prefix.Key(keyspace.NamespaceClaim, key)
	op.Keys = []string{op.Key, fenceKey(s.prefix.Base(), op.Key), legacyFenceKey(op.Key)}
	op.Idempotent = true

	interval := opts.RetryInterval
	if interval == 0 {
		interval = DefaultRetryInterval
	}
	start := time.Now()
	for {
		sent := time.Now()
		res, err := s.do(ctx, op)
		if err != nil {
			return nil, err
		}
		if res.Bool {
			l := &Lease{s: s, key: key, redisKey: op.Key, owner: op.Value, token: token,
				fence: res.Int, ttl: op.TTL, acquiredAt: sent}
			if l.fence >= maxFence {
				return nil, l.refuseFence(ctx)
			}
			return l, nil
		}
		left := opts.Wait - time.Since(start) // no overflow, whatever Wait is
		if opts.Wait == 0 || left <= 0 {
			return nil, ops.NewError(ops.CodeLeaseNotAcquired, ops.LeaseAcquire.Operation(), "the lease is held by another owner", nil)
		}
		if err := pause.For(ctx, min(pause.Jitter(interval), left)); err != nil {
			return nil, ops.Failure(ops.LeaseAcquire, ops.ErrCanceled, err)
		}
	}
}

// Extend sets the lease to expire ttl from now, if it is still this lease's (an owner-checked
// PEXPIRE in one Lua script). A lease that expired or is held by another owner is
// STORE_LEASE_LOST; ttl must be positive. The lease's TTL() does not change.
func (l *Lease) Extend(ctx context.Context, ttl time.Duration) error {
	op := l.op(ops.LeaseExtend)
	var err error
	if op.TTL, err = leaseTTL(ops.LeaseExtend, ttl); err != nil {
		_, err = l.s.reject(ctx, op, err)
		return err
	}
	op.Idempotent = true // extending twice from "now" leaves the same expiry
	_, err = l.s.do(ctx, op)
	return err
}

// Release gives the lease back: it deletes the claim key only if it still holds this lease's
// token (compare-and-delete in one Lua script). A lease that expired, was released already, or is
// held by another owner is STORE_LEASE_LOST: whatever the lease guarded may have been touched by
// someone else. The fence counter stays, so the next holder gets a larger token.
func (l *Lease) Release(ctx context.Context) error {
	_, err := l.s.do(ctx, l.op(ops.LeaseRelease))
	return err
}

// maxFence is 2^53: the acquire script counts in Lua numbers (doubles), exact below it only.
const maxFence = int64(1) << 53

// refuseFence gives back a lease whose token is not below 2^53, and returns the error Acquire
// reports for it. Past 2^53 the script's arithmetic rounds, so a token may equal an earlier one:
// it cannot be proven larger, so it is not handed out.
func (l *Lease) refuseFence(ctx context.Context) error {
	relErr := l.Release(context.WithoutCancel(ctx))
	return ops.NewError(ops.FailedCode(ops.LeaseAcquire), ops.LeaseAcquire.Operation(),
		"the fencing counter is at or past 2^53 (written by a Redis clock far ahead?): a larger token cannot be proven",
		relErr).WithDetails(map[string]any{"fence": l.fence})
}

func (l *Lease) op(kind ops.Kind) ops.Op {
	op := l.s.op(kind)
	op.Key, op.Value = l.redisKey, l.owner
	return op
}

// leaseTTL checks a lease TTL: positive, rounded up to whole milliseconds.
func leaseTTL(kind ops.Kind, ttl time.Duration) (time.Duration, error) {
	if ttl <= 0 {
		return 0, ops.Invalid(ops.CodeTTLInvalid, kind.Operation(),
			"A lease TTL must be positive, got "+ttl.String(), map[string]any{"ttl": ttl.String()})
	}
	return ttlOf(kind, ttl)
}
