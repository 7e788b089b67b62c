package client

import (
	"context"

	"github.com/igniter-go/store/internal/keyspace"
	"github.com/igniter-go/store/ops"
)

// GCRA runs one step of the generic cell rate algorithm on the counter key: it lets cost units
// through when rate.Rate per rate.Period with bursts of rate.Burst allow it, atomically in one
// Lua script on one key (so it runs on Redis Cluster), with the server's clock. The key always
// has an expiry. A cost of 0 only reads the state. Package ratelimit builds its limiter on this.
//
// Rate and Burst must be positive and Period at least a microsecond per unit of Rate; otherwise
// STORE_CONFIGURATION_INVALID with no call to Redis.
func (c Counter) GCRA(ctx context.Context, key string, rate ops.RateArgs, cost int64) (ops.RateReply, error) {
	s := c.s
	op := s.op(ops.CounterGCRA)
	op.N = cost
	var err error
	switch {
	case key == "":
		err = errKeyRequired(ops.CounterGCRA)
	case rate.Rate <= 0 || rate.Burst <= 0 || rate.Period.Microseconds() < rate.Rate || cost < 0:
		err = ops.Invalid(ops.CodeConfigurationInvalid, ops.CounterGCRA.Operation(),
			"rate limit needs Rate > 0, Burst > 0, Period ≥ 1µs per unit of Rate and cost ≥ 0",
			map[string]any{"rate": rate.Rate, "burst": rate.Burst, "period": rate.Period.String(), "cost": cost})
	}
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
