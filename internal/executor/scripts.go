package executor

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/ops"
)

// The Lua scripts of claims and leases. Each runs with EVALSHA, falling back to EVAL when the
// server does not have it cached (redis.Script.Run). Every key a script touches is in its KEYS,
// and those keys share one hash slot (fenceKey), so they run on Redis Cluster.
var (
	// releaseScript deletes KEYS[1] if it holds ARGV[1]: 1 deleted, 0 absent, -1 another owner.
	releaseScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then return redis.call('DEL', KEYS[1]) end
if v then return -1 end
return 0`)

	// extendScript sets KEYS[1] to expire in ARGV[2] ms if it holds ARGV[1]: 1 extended,
	// 0 absent, -1 another owner.
	extendScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if v then return -1 end
return 0`)

	// acquireScript takes KEYS[1] for owner ARGV[1] for ARGV[2] ms if nobody holds it, and
	// returns the new fencing token: the larger of INCR of the fence counter KEYS[2] (never
	// expires, so tokens only grow) and the server's clock (TIME) in microseconds since the Unix
	// epoch, which it stores back. The clock floor keeps tokens growing when the counter is lost
	// (a restart without persistence, a failover to a replica that missed it), as long as that
	// clock is not behind the one that issued the earlier tokens (see client's Lease.Fence). A
	// microsecond count stays below 2^53 (exact as a Lua or JSON number) until the year 2255.
	// 0: another owner holds it. When ARGV[1] already holds it (a retried call whose
	// first reply was lost) it renews the expiry and returns the current token, so a retry is safe.
	// The INCR runs before the SET: a fence key that is not an integer fails the script before it
	// writes anything. A counter that does not exist yet starts at ARGV[3] when it is given; without
	// it the script returns -2 and changes nothing, and the caller reads the legacy counter
	// (legacyFenceKey) and runs the script again with it as ARGV[3].
	acquireScript = redis.NewScript(`
if redis.replicate_commands then redis.replicate_commands() end
if redis.call('EXISTS', KEYS[2]) == 0 then
  if not ARGV[3] then return -2 end
  redis.call('SET', KEYS[2], ARGV[3])
end
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return tonumber(redis.call('GET', KEYS[2]))
end
if v then return 0 end
local f = redis.call('INCR', KEYS[2])
local t = redis.call('TIME')
local floor = tonumber(t[1]) * 1000000 + tonumber(t[2])
if f < floor then
  f = floor
  redis.call('SET', KEYS[2], string.format('%.0f', floor))
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return f`)
)

// claimRelease: Bool reports a release; another owner is STORE_CLAIM_NOT_OWNER.
func (e *Executor) claimRelease(ctx context.Context, op ops.Op) (ops.Result, error) {
	n, err := releaseScript.Run(ctx, e.scripter(), []string{op.Key}, op.Value).Int64()
	if err != nil {
		return ops.Result{}, err
	}
	if n < 0 {
		return ops.Result{}, ops.NewError(ops.CodeClaimNotOwner, op.Kind.Operation(), "the claim is held by another owner", nil)
	}
	return ops.Result{Bool: n == 1, Int: n}, nil
}

// leaseAcquire: Bool reports the lease was taken, Int is its fencing token. Keys are
// [claim key, fence key, legacy fence key]. The first acquisition of a key (no counter yet) reads
// the legacy counter, read only and outside the script (a Redis user confined by Store.ACLRule may
// only read it), and starts the new counter from it: tokens keep growing across the upgrade.
func (e *Executor) leaseAcquire(ctx context.Context, op ops.Op) (ops.Result, error) {
	keys := op.Keys[:2]
	fence, err := acquireScript.Run(ctx, e.scripter(), keys, op.Value, op.TTL.Milliseconds()).Int64()
	if err == nil && fence == -2 {
		seed, gerr := sendOnce(ctx, e.rdb, func(r redis.Cmdable) *redis.StringCmd { return r.Get(ctx, op.Keys[2]) }).Result()
		switch {
		case errors.Is(gerr, redis.Nil), redis.HasErrorPrefix(gerr, "NOPERM"): // no legacy counter, or not readable
			seed = "0"
		case gerr != nil:
			return ops.Result{}, gerr
		}
		fence, err = acquireScript.Run(ctx, e.scripter(), keys, op.Value, op.TTL.Milliseconds(), seed).Int64()
	}
	if err != nil {
		return ops.Result{}, err
	}
	return ops.Result{Bool: fence > 0, Int: fence}, nil
}

// leaseExtend: nil when extended; absent or another owner is STORE_LEASE_LOST.
func (e *Executor) leaseExtend(ctx context.Context, op ops.Op) (ops.Result, error) {
	n, err := extendScript.Run(ctx, e.scripter(), []string{op.Key}, op.Value, op.TTL.Milliseconds()).Int64()
	if err != nil {
		return ops.Result{}, err
	}
	if n != 1 {
		return ops.Result{}, ErrLeaseLost(op.Kind, nil)
	}
	return ops.Result{Bool: true, Int: n}, nil
}

// leaseRelease: nil when released; absent or another owner is STORE_LEASE_LOST.
func (e *Executor) leaseRelease(ctx context.Context, op ops.Op) (ops.Result, error) {
	n, err := releaseScript.Run(ctx, e.scripter(), []string{op.Key}, op.Value).Int64()
	if err != nil {
		return ops.Result{}, err
	}
	if n != 1 {
		return ops.Result{}, ErrLeaseLost(op.Kind, nil)
	}
	return ops.Result{Bool: true, Int: n}, nil
}

// ErrLeaseLost is STORE_LEASE_LOST: the lease expired or another owner holds it.
func ErrLeaseLost(kind ops.Kind, cause error) error {
	return ops.NewError(ops.CodeLeaseLost, kind.Operation(), "the lease expired or is held by another owner", cause)
}
