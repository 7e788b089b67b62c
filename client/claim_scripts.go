package client

import (
	"context"

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
	// returns the new fencing token: INCR of the fence counter KEYS[2] (never expires, so tokens
	// only grow). 0: another owner holds it. When ARGV[1] already holds it (a retried call whose
	// first reply was lost) it renews the expiry and returns the current token, so a retry is safe.
	// The INCR runs before the SET: a fence key that is not an integer fails the script before it
	// writes anything.
	acquireScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  local f = redis.call('GET', KEYS[2])
  if not f then f = redis.call('INCR', KEYS[2]) end
  return tonumber(f)
end
if v then return 0 end
local f = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return f`)
)

func init() {
	extraKinds[ops.ClaimRelease] = runClaimRelease
	extraKinds[ops.LeaseAcquire] = runLeaseAcquire
	extraKinds[ops.LeaseExtend] = runLeaseExtend
	extraKinds[ops.LeaseRelease] = runLeaseRelease
}

// runClaimRelease: Bool reports a release; another owner is STORE_CLAIM_NOT_OWNER.
func runClaimRelease(ctx context.Context, e *executor, op ops.Op) (ops.Result, error) {
	n, err := releaseScript.Run(ctx, e.scripter(), []string{op.Key}, op.Value).Int64()
	if err != nil {
		return ops.Result{}, err
	}
	if n < 0 {
		return ops.Result{}, ops.NewError(ops.CodeClaimNotOwner, op.Kind.Operation(), "the claim is held by another owner", nil)
	}
	return ops.Result{Bool: n == 1, Int: n}, nil
}

// runLeaseAcquire: Bool reports the lease was taken, Int is its fencing token. Keys are
// [claim key, fence key].
func runLeaseAcquire(ctx context.Context, e *executor, op ops.Op) (ops.Result, error) {
	fence, err := acquireScript.Run(ctx, e.scripter(), op.Keys, op.Value, op.TTL.Milliseconds()).Int64()
	if err != nil {
		return ops.Result{}, err
	}
	return ops.Result{Bool: fence > 0, Int: fence}, nil
}

// runLeaseExtend: nil when extended; absent or another owner is STORE_LEASE_LOST.
func runLeaseExtend(ctx context.Context, e *executor, op ops.Op) (ops.Result, error) {
	n, err := extendScript.Run(ctx, e.scripter(), []string{op.Key}, op.Value, op.TTL.Milliseconds()).Int64()
	if err != nil {
		return ops.Result{}, err
	}
	if n != 1 {
		return ops.Result{}, errLeaseLost(op.Kind, nil)
	}
	return ops.Result{Bool: true, Int: n}, nil
}

// runLeaseRelease: nil when released; absent or another owner is STORE_LEASE_LOST.
func runLeaseRelease(ctx context.Context, e *executor, op ops.Op) (ops.Result, error) {
	n, err := releaseScript.Run(ctx, e.scripter(), []string{op.Key}, op.Value).Int64()
	if err != nil {
		return ops.Result{}, err
	}
	if n != 1 {
		return ops.Result{}, errLeaseLost(op.Kind, nil)
	}
	return ops.Result{Bool: true, Int: n}, nil
}

func errLeaseLost(kind ops.Kind, cause error) error {
	return ops.NewError(ops.CodeLeaseLost, kind.Operation(), "the lease expired or is held by another owner", cause)
}
