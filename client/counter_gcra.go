package client

import (
	"context"

	"github.com/igniter-go/store/internal/executor"
	"github.com/igniter-go/store/internal/keyspace"
	"github.com/igniter-go/store/ops"
)

// GCRA runs one step of the generic cell rate algorithm on the counter key: it lets cost units
// through when rate.Rate per rate.Period with bursts of rate.Burst allow it, atomically in one
// Lua script on one key (so it runs on Redis Cluster), with the server's clock. The key always
// has an expiry. A cost of 0 only reads the state. Package ratelimit builds its limiter on this.
//
// The emission interval is Period/Rate rounded up to the nanosecond, and all arithmetic is exact.
// Rate and Burst must be positive, Period at least a microsecond per unit of Rate, the time a
// full burst takes to refill (Burst × the interval) at most the largest time.Duration (about 292
// years), and 0 ≤ cost ≤ Burst (a cost above Burst could never pass); otherwise
// STORE_CONFIGURATION_INVALID with no call to Redis.
func (c Counter) GCRA(ctx context.Context, key string, rate ops.RateArgs, cost int64) (ops.RateReply, error) {
	s := c.s
	op := s.op(ops.CounterGCRA)
	op.N = cost
	err := validateGCRA(key, rate, cost)
	if err != nil {
		_, err = s.reject(ctx, op, err)
		return ops.RateReply{}, err
	}
	op.Rate = &rate
	op.Key = s.prefix.Key(keyspace.NamespaceCounter, key)
	res, err := s.do(ctx, op)
	if err != nil || res.Rate == nil {
		return ops.RateReply{}, err
	}
	return *res.Rate, nil
}

// validateGCRA is GCRA's input check, before anything is sent.
func validateGCRA(key string, rate ops.RateArgs, cost int64) error {
	if key == "" {
		return errKeyRequired(ops.CounterGCRA)
	}
	interval, _, ok := executor.GCRAInterval(rate)
	var msg string
	switch {
	case rate.Rate <= 0 || rate.Burst <= 0 || rate.Period.Microseconds() < rate.Rate || cost < 0:
		msg = "rate limit needs Rate > 0, Burst > 0, Period ≥ 1µs per unit of Rate and cost ≥ 0"
	case !ok:
		msg = "rate limit's full burst would take longer than the largest time.Duration to refill: Burst × ⌈Period/Rate⌉ must be at most 2⁶³−1 ns"
	case cost > rate.Burst:
		msg = "a cost above the rate limit's Burst can never pass"
	default:
		return nil
	}
	return ops.Invalid(ops.CodeConfigurationInvalid, ops.CounterGCRA.Operation(), msg, map[string]any{
		"rate": rate.Rate, "burst": rate.Burst, "period": rate.Period.String(), "cost": cost, "interval": interval.String()})
}
