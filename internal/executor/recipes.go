package executor

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/ops"
)

// The Redis commands of the recipe primitives: set-if-absent and the GCRA rate limiter.

// setIfAbsent sends SET key value [PX ms] NX GET: the reply is the value that was there (and
// nothing is written), or nil when this call stored value. Bool reports the store.
func (e *Executor) setIfAbsent(ctx context.Context, op ops.Op) (ops.Result, error) {
	args := make([]any, 0, 7)
	args = append(args, "SET", op.Key, op.Value)
	if op.TTL > 0 {
		args = append(args, "PX", op.TTL.Milliseconds())
	}
	args = append(args, "NX", "GET")
	old, err := e.rdb.Do(ctx, args...).Text()
	if err == redis.Nil {
		return ops.Result{Bool: true}, nil
	}
	if err != nil {
		return ops.Result{}, err
	}
	return ops.Result{Value: []byte(old)}, nil
}

// gcraScript is one GCRA step (the generic cell rate algorithm, as github.com/go-redis/redis_rate
// runs it) on the theoretical arrival time (TAT) stored in KEYS[1], in integer microseconds of
// the server's clock (TIME), so every instance shares one clock and one key (cluster-safe).
// ARGV: emission interval (µs per unit), burst offset (µs: interval × burst), cost.
// Returns {allowed cost, remaining, retry after µs, reset after µs}. Every write sets a PX
// expiry: the key disappears once the limiter would be back to its full burst, so no key ever
// outlives its use. A TAT that is not a number is treated as absent.
var gcraScript = redis.NewScript(`
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local offset = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '')
if tat == nil or tat < now then tat = now end
local newTat = tat + interval * cost
local diff = now - (newTat - offset)
if diff < 0 then
  local remaining = math.floor((now - (tat - offset)) / interval)
  if remaining < 0 then remaining = 0 end
  return {0, remaining, -diff, tat - now}
end
local reset = newTat - now
if reset > 0 then
  redis.call('SET', KEYS[1], string.format('%d', newTat), 'PX', math.ceil(reset / 1000))
end
return {cost, math.floor(diff / interval), 0, reset}`)

// gcra runs gcraScript for op.Rate with cost op.N.
func (e *Executor) gcra(ctx context.Context, op ops.Op) (ops.Result, error) {
	r := op.Rate
	interval := max(r.Period.Microseconds()/max(r.Rate, 1), 1)
	vals, err := gcraScript.Run(ctx, e.rdb, []string{op.Key}, interval, interval*r.Burst, op.N).Int64Slice()
	if err != nil {
		return ops.Result{}, err
	}
	if len(vals) != 4 {
		return ops.Result{}, ops.NewError(ops.CodeOperationFailed, op.Kind.Operation(), "the rate-limit script returned an unexpected reply", nil)
	}
	reply := &ops.RateReply{Allowed: vals[0], Remaining: vals[1],
		RetryAfter: time.Duration(vals[2]) * time.Microsecond, ResetAfter: time.Duration(vals[3]) * time.Microsecond}
	return ops.Result{Bool: reply.Allowed > 0 || op.N == 0, Int: reply.Remaining, Rate: reply}, nil
}
