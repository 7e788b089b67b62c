package executor

import (
	"context"
	"math"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/ops"
)

// GCRAInterval returns the arithmetic of a rate limit: the emission interval, Period/Rate rounded
// up to the nanosecond (rounding up is what keeps the bound: over any d at most
// Burst + Rate·d/Period units pass; it costs at most one part in a thousand of the rate, as the
// interval is at least 1µs), and the horizon, interval·Burst: how far the theoretical arrival time
// may run ahead of now, the longest ResetAfter. ok is false when Rate or Burst is not positive,
// Period is under 1µs per unit of Rate, or the horizon does not fit in a time.Duration (about 292
// years). Every accepted limit is then computed exactly: in int64 nanoseconds here, in (seconds,
// nanoseconds) pairs of integers below 2^53 in the script.
func GCRAInterval(r ops.RateArgs) (interval, horizon time.Duration, ok bool) {
	if r.Rate <= 0 || r.Burst <= 0 || r.Period.Microseconds() < r.Rate {
		return 0, 0, false
	}
	interval = r.Period / time.Duration(r.Rate)
	if r.Period%time.Duration(r.Rate) != 0 {
		interval++
	}
	if r.Burst > math.MaxInt64/int64(interval) {
		return interval, 0, false
	}
	return interval, interval * time.Duration(r.Burst), true
}

// gcraScript is one GCRA step (the generic cell rate algorithm, as github.com/go-redis/redis_rate
// runs it) on the theoretical arrival time (TAT) stored in KEYS[1], on the server's clock (TIME),
// so every instance shares one clock and one key (cluster-safe).
//
// The TAT is stored as "<µs>[.<ns>]": whole microseconds of the server's clock, then the
// nanoseconds when there are any (only for an interval that is not whole microseconds), so a key
// written by an earlier version (whole µs) reads the same, and an earlier version reads this one
// (tonumber) to within a microsecond. Lua numbers are doubles, exact only below 2^53, so nothing
// here is ever a nanosecond count since the epoch: the debt (TAT − now, never below 0) is a pair
// (seconds, nanoseconds), and so are the arguments, computed exactly in Go:
// ARGV: the most debt that still lets the cost pass (horizon − interval·cost; s, ns), then the
// cost's time (interval·cost; s, ns). Returns {1 when the cost passed else 0, debt s, debt ns},
// the debt after the step. Only a step that takes something writes, with a PX expiry at the new
// TAT: the key disappears once the limiter is back to its full burst, so no key ever outlives
// its use. A TAT that is not such a number is treated as absent; one absurdly far ahead is
// capped at 10^10 s.
var gcraScript = redis.NewScript(`
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local nowS, nowU = tonumber(t[1]), tonumber(t[2])
local ds, dn = 0, 0
local v = redis.call('GET', KEYS[1])
if v then
  local s, u, ns = string.match(v, '^(%d+)(%d%d%d%d%d%d)%.?(%d?%d?%d?)$')
  if s then
    ds, dn = tonumber(s) - nowS, (tonumber(u) - nowU) * 1000 + (tonumber(ns) or 0)
    if dn < 0 then ds, dn = ds - 1, dn + 1000000000 end
    if ds < 0 then ds, dn = 0, 0 elseif ds > 10000000000 then ds, dn = 10000000000, 0 end
  end
end
local ms, mn = tonumber(ARGV[1]), tonumber(ARGV[2])
if ds > ms or (ds == ms and dn > mn) then return {0, ds, dn} end
local cs, cn = tonumber(ARGV[3]), tonumber(ARGV[4])
if cs == 0 and cn == 0 then return {1, ds, dn} end
ds, dn = ds + cs, dn + cn
if dn >= 1000000000 then ds, dn = ds + 1, dn - 1000000000 end
local s, ns = nowS + ds, nowU * 1000 + dn
if ns >= 1000000000 then s, ns = s + 1, ns - 1000000000 end
local frac = math.fmod(ns, 1000)
local tat
if frac > 0 then tat = string.format('%d%06d.%03d', s, (ns - frac) / 1000, frac)
else tat = string.format('%d%06d', s, (ns - frac) / 1000) end
local sub = math.fmod(dn, 1000000)
local px = ds * 1000 + (dn - sub) / 1000000
if sub > 0 then px = px + 1 end
redis.call('SET', KEYS[1], tat, 'PX', px)
return {1, ds, dn}`)

// gcra runs gcraScript for op.Rate with cost op.N. The client has validated both
// ([GCRAInterval], 0 ≤ cost ≤ Burst); a call that gets here without is refused all the same.
func (e *Executor) gcra(ctx context.Context, op ops.Op) (ops.Result, error) {
	r := op.Rate
	interval, horizon, ok := GCRAInterval(*r)
	if !ok || op.N < 0 || op.N > r.Burst {
		return ops.Result{}, ops.Invalid(ops.CodeConfigurationInvalid, op.Kind.Operation(), "invalid rate limit or cost",
			map[string]any{"rate": r.Rate, "burst": r.Burst, "period": r.Period.String(), "cost": op.N})
	}
	cost := interval * time.Duration(op.N) // ≤ horizon: no overflow
	most := horizon - cost
	vals, err := gcraScript.Run(ctx, e.loneScripter(), []string{op.Key},
		int64(most/time.Second), int64(most%time.Second), int64(cost/time.Second), int64(cost%time.Second)).Int64Slice()
	if err != nil {
		return ops.Result{}, err
	}
	if len(vals) != 3 {
		return ops.Result{}, ops.NewError(ops.CodeOperationFailed, op.Kind.Operation(), "the rate-limit script returned an unexpected reply", nil)
	}
	debt := secondsAndNanos(vals[1], vals[2])
	reply := &ops.RateReply{ResetAfter: upToMicrosecond(debt)}
	if vals[0] == 1 {
		reply.Allowed = op.N
	} else {
		reply.RetryAfter = upToMicrosecond(debt - most) // debt > most here, so > 0
	}
	if debt < horizon {
		reply.Remaining = int64((horizon - debt) / interval)
	}
	return ops.Result{Bool: reply.Allowed > 0 || op.N == 0, Int: reply.Remaining, Rate: reply}, nil
}

// secondsAndNanos is s seconds and ns nanoseconds (the script's pair), in [0, MaxInt64].
func secondsAndNanos(s, ns int64) time.Duration {
	switch {
	case s < 0 || (s == 0 && ns < 0):
		return 0
	case s > (math.MaxInt64-ns)/int64(time.Second):
		return math.MaxInt64
	}
	return time.Duration(s)*time.Second + time.Duration(ns)
}

// upToMicrosecond rounds d up to the microsecond, the server clock's tick: a request d later
// sees the server's clock at least that far on. It saturates at the largest Duration.
func upToMicrosecond(d time.Duration) time.Duration {
	rem := d % time.Microsecond
	if rem == 0 {
		return d
	}
	if d > math.MaxInt64-time.Microsecond {
		return math.MaxInt64
	}
	return d - rem + time.Microsecond
}
