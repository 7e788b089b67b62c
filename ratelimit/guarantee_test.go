package ratelimit_test

import (
	"context"
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/ratelimit"
	"github.com/igniter-go/store/storetest"
)

// The guarantees of the package doc, each on a real redis-server. None of them waits: the bound
// is checked against a window measured on the server's own clock (TIME, the clock the script
// decides with), and "RetryAfter is true" is checked by moving the key's theoretical arrival
// time back by RetryAfter instead of sleeping it.

const century = 100 * 365 * 24 * time.Hour

// gcraEnv is a limiter on a real redis-server, with a raw client on the same server.
type gcraEnv struct {
	raw *redis.Client
	lim *ratelimit.Limiter
}

func newGCRAEnv(t testing.TB) gcraEnv {
	t.Helper()
	srv := redistest.Start(t)
	st := storetest.Connect(t, srv.Client(t), client.New().WithService("api"))
	return gcraEnv{raw: srv.Client(t), lim: newLimiter(t, st, ratelimit.Options{Prefix: "rl"})}
}

func (e gcraEnv) redisKey(key string) string { return "igniter:store:api:counter:rl:" + key }

// serverNow is the server's clock, the one the script reads.
func (e gcraEnv) serverNow(t testing.TB) time.Time {
	t.Helper()
	now, err := e.raw.Time(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	return now
}

// withinBound reports whether passed ≤ Burst + Rate·d/Period, exactly (no float rounding).
func withinBound(passed int64, limit ratelimit.Limit, d time.Duration) bool {
	lhs := new(big.Int).Mul(big.NewInt(passed), big.NewInt(int64(limit.Period)))
	rhs := new(big.Int).Mul(big.NewInt(limit.Burst), big.NewInt(int64(limit.Period)))
	rhs.Add(rhs, new(big.Int).Mul(big.NewInt(limit.Rate), big.NewInt(int64(d))))
	return lhs.Cmp(rhs) <= 0
}

// Defect 9: the emission interval was floor-divided to whole microseconds, so at 600k/s one unit
// cost 1µs instead of 1.67µs and about 1.6× the limit passed. Demand far above the rate (each
// call asks for half the burst, so a call refills in milliseconds while it takes well under one,
// even under -race on a loaded machine) runs until 6 such costs passed beyond the burst; over the
// window from a server TIME before the first call to one after the last, at most
// Burst + Rate·d/Period units may pass.
func TestGCRAGuaranteeBoundHoldsAtHighRates(t *testing.T) {
	env := newGCRAEnv(t)
	ctx := context.Background()
	for i, limit := range []ratelimit.Limit{
		{Rate: 600_000, Period: time.Second, Burst: 60_000},                      // 1.67µs per unit
		{Rate: 999_999, Period: time.Second, Burst: 99_999},                      // 1.000001µs per unit
		{Rate: 3_000, Period: 5 * time.Millisecond, Burst: 3_000},                // 1.67µs per unit
		{Rate: 7, Period: 10*time.Microsecond + 500, Burst: 7_000},               // 1.5µs per unit
		{Rate: 1_000_000, Period: time.Second + time.Nanosecond, Burst: 100_000}, // 1.000000001µs
	} {
		key := "high:" + strconv.Itoa(i)
		cost := max(limit.Burst/2, 1)
		var passed, denied, calls int64
		start := env.serverNow(t)
		for passed < limit.Burst+6*cost {
			if calls++; calls > 10_000_000 {
				t.Fatalf("%+v: %d passed after %d calls: the limiter starves", limit, passed, calls)
			}
			r, err := env.lim.AllowN(ctx, key, limit, cost)
			if err != nil {
				t.Fatalf("%+v: %v", limit, err)
			}
			switch {
			case r.OK():
				passed += r.Allowed
			case r.RetryAfter <= 0:
				t.Fatalf("%+v: denied with RetryAfter %v", limit, r.RetryAfter)
			default:
				denied++
			}
		}
		d := env.serverNow(t).Sub(start)
		t.Logf("%+v: %d passed in %v of server time over %d calls (%d denied)", limit, passed, d, calls, denied)
		if denied == 0 {
			t.Fatalf("%+v: nothing was denied: demand did not exceed the rate, the case proves nothing", limit)
		}
		if !withinBound(passed, limit, d) {
			t.Errorf("%+v: %d passed in %v of server time; the bound Burst + Rate·d/Period is %.0f",
				limit, passed, d, float64(limit.Burst)+float64(limit.Rate)*float64(d)/float64(limit.Period))
		}
	}
}

// Defect 10: 1 per 100 years with bursts of 10 000 overflowed interval·Burst in int64: the first
// request was denied, with a negative RetryAfter. A limit whose full burst takes longer than a
// time.Duration to refill is now a configuration error, and every limit that is accepted, up to
// that horizon, lets its first burst through and never reports a negative duration.
func TestGCRAGuaranteeHugePeriods(t *testing.T) {
	env := newGCRAEnv(t)
	ctx := context.Background()
	for _, limit := range []ratelimit.Limit{
		{Rate: 1, Period: century, Burst: 10_000},
		{Rate: 1, Period: math.MaxInt64, Burst: 2},
		{Rate: 3, Period: math.MaxInt64, Burst: 4},
		{Rate: 1_000, Period: time.Hour, Burst: math.MaxInt64},
		{Rate: 1 << 40, Period: math.MaxInt64, Burst: 1 << 40}, // ⌈Period/Rate⌉·Burst = 2⁶³
	} {
		r, err := env.lim.Allow(ctx, "huge", limit)
		if !ops.HasCode(err, ops.CodeConfigurationInvalid) || !errors.Is(err, ops.ErrInvalid) {
			t.Errorf("%+v: %+v, %v; want STORE_CONFIGURATION_INVALID: a full burst would take longer than a time.Duration to refill", limit, r, err)
		}
	}
	if keys := env.raw.Keys(ctx, "*").Val(); len(keys) != 0 {
		t.Fatalf("rejected limits wrote %v", keys)
	}
	for i, limit := range []ratelimit.Limit{
		{Rate: 1, Period: century, Burst: 1},
		{Rate: 10_000, Period: century, Burst: 10_000},
		{Rate: 1, Period: math.MaxInt64, Burst: 1},
		{Rate: 2, Period: math.MaxInt64 - 1, Burst: 2},
		{Rate: 1 << 40, Period: 1 << 62, Burst: 1 << 40},
		{Rate: 1_000_000, Period: time.Second, Burst: int64(math.MaxInt64 / time.Microsecond)},
	} {
		key := "huge:" + strconv.Itoa(i)
		r, err := env.lim.AllowN(ctx, key, limit, limit.Burst)
		if err != nil || !r.OK() || r.RetryAfter != 0 || r.Remaining != 0 || r.ResetAfter <= 0 {
			t.Fatalf("%+v: the first full burst: %+v, %v", limit, r, err)
		}
		r, err = env.lim.AllowN(ctx, key, limit, limit.Burst)
		horizon := time.Duration(new(big.Int).Mul(
			new(big.Int).Div(big.NewInt(int64(limit.Period)+limit.Rate-1), big.NewInt(limit.Rate)),
			big.NewInt(limit.Burst)).Int64())
		if err != nil || r.OK() || r.RetryAfter <= 0 || (r.RetryAfter > horizon && r.RetryAfter-horizon >= time.Microsecond) || r.ResetAfter <= 0 {
			t.Fatalf("%+v: a second full burst: %+v, %v (horizon %v)", limit, r, err, horizon)
		}
		env.travel(t, key, r.RetryAfter)
		if r, err := env.lim.AllowN(ctx, key, limit, limit.Burst); err != nil || !r.OK() {
			t.Fatalf("%+v: RetryAfter later the second burst does not pass: %+v, %v", limit, r, err)
		}
	}
}

// Defect 11: AllowN(n) with n above Burst can never pass, yet it was denied with a RetryAfter
// after which it still did not pass. It is now STORE_CONFIGURATION_INVALID, sent nowhere.
func TestGCRAGuaranteeCostAboveBurstIsAnError(t *testing.T) {
	env := newGCRAEnv(t)
	ctx := context.Background()
	limit := ratelimit.Limit{Rate: 20, Period: time.Second, Burst: 2}
	for _, n := range []int64{3, 1000, math.MaxInt64} {
		r, err := env.lim.AllowN(ctx, "k", limit, n)
		if !ops.HasCode(err, ops.CodeConfigurationInvalid) || !errors.Is(err, ops.ErrInvalid) || r.OK() {
			t.Fatalf("AllowN(%d) with Burst 2: %+v, %v; want STORE_CONFIGURATION_INVALID", n, r, err)
		}
	}
	if keys := env.raw.Keys(ctx, "*").Val(); len(keys) != 0 {
		t.Fatalf("rejected calls wrote %v", keys)
	}
	if r, err := env.lim.AllowN(ctx, "k", limit, 2); err != nil || !r.OK() {
		t.Fatalf("AllowN(Burst) on a fresh key: %+v, %v", r, err)
	}
}

// travel moves the key's theoretical arrival time d (rounded up to the microsecond) into the
// past, as if d had gone by: the stored value is "<µs>[.<ns>]" of the server's clock.
func (e gcraEnv) travel(t testing.TB, key string, d time.Duration) {
	t.Helper()
	ctx := context.Background()
	v, err := e.raw.Get(ctx, e.redisKey(key)).Result()
	if err == redis.Nil {
		return // already expired: nothing to move
	}
	if err != nil {
		t.Fatal(err)
	}
	us, frac, _ := strings.Cut(v, ".")
	n, ok := new(big.Int).SetString(us, 10)
	if !ok {
		t.Fatalf("stored TAT %q is not µs[.ns]", v)
	}
	n.Sub(n, big.NewInt(int64((d+time.Microsecond-1)/time.Microsecond)))
	moved := n.String()
	if frac != "" {
		moved += "." + frac
	}
	if err := e.raw.Set(ctx, e.redisKey(key), moved, redis.KeepTTL).Err(); err != nil {
		t.Fatal(err)
	}
}

// checkReply is what every reply must satisfy, whatever the limit: durations are never negative,
// Remaining is within [0, Burst], a pass says nothing about retrying and a denial gives a
// positive RetryAfter.
func checkReply(t testing.TB, limit ratelimit.Limit, n int64, r ratelimit.Result) {
	t.Helper()
	if r.RetryAfter < 0 || r.ResetAfter < 0 || r.Remaining < 0 || r.Remaining > limit.Burst ||
		(r.OK() && (r.Allowed != n || r.RetryAfter != 0)) || (!r.OK() && n > 0 && r.RetryAfter <= 0) {
		t.Fatalf("%+v, cost %d: reply %+v breaks the reply's invariants", limit, n, r)
	}
}

// accepted is the documented domain of a limit and cost: Rate, Burst > 0; Period ≥ 1µs per unit
// of Rate; 0 ≤ cost ≤ Burst; and a full burst refills within a time.Duration.
func accepted(limit ratelimit.Limit, n int64) bool {
	if limit.Rate <= 0 || limit.Burst <= 0 || limit.Period.Microseconds() < limit.Rate || n < 0 || n > limit.Burst {
		return false
	}
	interval := new(big.Int).Div(big.NewInt(int64(limit.Period)), big.NewInt(limit.Rate))
	if int64(limit.Period)%limit.Rate != 0 {
		interval.Add(interval, big.NewInt(1))
	}
	return interval.Mul(interval, big.NewInt(limit.Burst)).Cmp(big.NewInt(math.MaxInt64)) <= 0
}

// exercise runs the guarantee on one limit and cost: rejected exactly outside the documented
// domain; inside it, the first call on a fresh key passes, a call that does not fit is denied
// with a RetryAfter after which it passes, and every reply keeps its invariants.
func (e gcraEnv) exercise(t *testing.T, key string, limit ratelimit.Limit, n int64) (ok bool) {
	t.Helper()
	ctx := context.Background()
	r, err := e.lim.AllowN(ctx, key, limit, n)
	if !accepted(limit, n) {
		if !ops.HasCode(err, ops.CodeConfigurationInvalid) || r.OK() {
			t.Fatalf("%+v, cost %d: %+v, %v; want STORE_CONFIGURATION_INVALID", limit, n, r, err)
		}
		return false
	}
	if err != nil || !r.OK() && n > 0 {
		t.Fatalf("%+v, cost %d, fresh key: %+v, %v", limit, n, r, err)
	}
	checkReply(t, limit, n, r)
	if n == 0 {
		return true
	}
	for range 3 { // take until denied (at most Burst/n + 1 calls; stop early on huge bursts)
		if r, err = e.lim.AllowN(ctx, key, limit, n); err != nil {
			t.Fatal(err)
		}
		checkReply(t, limit, n, r)
		if !r.OK() {
			e.travel(t, key, r.RetryAfter)
			r, err = e.lim.AllowN(ctx, key, limit, n)
			if err != nil || !r.OK() {
				t.Fatalf("%+v, cost %d: RetryAfter later it does not pass: %+v, %v", limit, n, r, err)
			}
			checkReply(t, limit, n, r)
		}
	}
	return true
}

// A table of the options' extremes, every one checked against the documented domain and the
// reply's invariants.
func TestGCRAGuaranteeExtremeOptions(t *testing.T) {
	env := newGCRAEnv(t)
	periods := []time.Duration{1, time.Microsecond - 1, time.Microsecond, time.Microsecond + 1, 3 * time.Microsecond / 2,
		time.Second, time.Second + 1, 7 * time.Hour, century, math.MaxInt64 / 2, math.MaxInt64 - 1, math.MaxInt64}
	counts := []int64{-1, 0, 1, 2, 3, 7, 1_000_000, math.MaxInt32, 1 << 53, 1<<53 + 1, math.MaxInt64 / 1000, math.MaxInt64 - 1, math.MaxInt64}
	i, valid := 0, 0
	for _, p := range periods {
		for _, rate := range counts {
			for _, burst := range []int64{1, 3, rate, math.MaxInt64, 1 << 53} {
				for _, n := range []int64{0, 1, 2, burst, burst + 1} {
					i++
					if env.exercise(t, "x:"+strconv.Itoa(i), ratelimit.Limit{Rate: rate, Period: p, Burst: burst}, n) {
						valid++
					}
				}
			}
		}
	}
	t.Logf("%d cases, %d of them accepted", i, valid)
}

// The same over random options.
func FuzzGCRAGuaranteeOptions(f *testing.F) {
	env := newGCRAEnv(f)
	f.Add(int64(600_000), int64(time.Second), int64(60_000), int64(6_000))
	f.Add(int64(1), int64(century), int64(10_000), int64(1))
	f.Add(int64(3), int64(math.MaxInt64), int64(3), int64(2))
	f.Add(int64(20), int64(time.Second), int64(2), int64(3))
	f.Add(int64(7), int64(10_500), int64(5), int64(5))
	i := 0
	f.Fuzz(func(t *testing.T, rate, period, burst, n int64) {
		i++
		env.exercise(t, "f:"+strconv.Itoa(i), ratelimit.Limit{Rate: rate, Period: time.Duration(period), Burst: burst}, n)
	})
}
