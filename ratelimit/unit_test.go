package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/ratelimit"
	"github.com/igniter-go/store/storetest"
)

// newLimiter is ratelimit.New for options a test expects to be valid.
func newLimiter(t testing.TB, store *client.Store, opts ratelimit.Options) *ratelimit.Limiter {
	t.Helper()
	lim, err := ratelimit.New(store, opts)
	if err != nil {
		t.Fatalf("ratelimit.New: %v", err)
	}
	return lim
}

// New follows the recipe packages' convention: (T, error), a coded error for what it cannot use.
func TestNewWithoutAStoreIsConfigurationInvalid(t *testing.T) {
	lim, err := ratelimit.New(nil, ratelimit.Options{})
	if !ops.HasCode(err, ops.CodeConfigurationInvalid) || lim != nil {
		t.Fatalf("New(nil): %v, %v; want STORE_CONFIGURATION_INVALID and no Limiter", lim, err)
	}
}

func TestInvalidInputIsCodedAndNeverReachesRedis(t *testing.T) {
	st := storetest.New(t)
	lim := newLimiter(t, st.Store, ratelimit.Options{})
	ctx := context.Background()
	for name, tc := range map[string]struct {
		key   string
		limit ratelimit.Limit
		n     int64
		code  ops.Code
	}{
		"empty key":       {"", ratelimit.PerSecond(1), 1, ops.CodeKeyRequired},
		"zero rate":       {"k", ratelimit.Limit{Period: time.Second, Burst: 1}, 1, ops.CodeConfigurationInvalid},
		"zero burst":      {"k", ratelimit.Limit{Rate: 1, Period: time.Second}, 1, ops.CodeConfigurationInvalid},
		"period too fine": {"k", ratelimit.Limit{Rate: 10, Period: time.Microsecond, Burst: 1}, 1, ops.CodeConfigurationInvalid},
		"negative cost":   {"k", ratelimit.PerSecond(1), -1, ops.CodeConfigurationInvalid},
	} {
		if _, err := lim.AllowN(ctx, tc.key, tc.limit, tc.n); !ops.HasCode(err, tc.code) {
			t.Errorf("%s: %v, want %s", name, err, tc.code)
		}
	}
	if keys := st.Redis.Keys(); len(keys) != 0 {
		t.Fatalf("invalid calls wrote %v", keys)
	}
}

func TestWaitEndsWithItsContext(t *testing.T) {
	st := storetest.New(t)
	lim := newLimiter(t, st.Store, ratelimit.Options{})
	limit := ratelimit.PerHour(1)
	ctx := context.Background()
	if r, _ := lim.Allow(ctx, "k", limit); !r.OK() {
		t.Fatal("the first call must pass")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := lim.Wait(cctx, "k", limit); !ops.HasCode(err, ops.CodeCanceled) {
		t.Fatalf("Wait after cancel: %v", err)
	}
}

// On a clock the test sets (storetest's miniredis runs the same script, and its TIME is
// SetTime), the limiter is exact, not only within the bound: at 600k/s (an emission interval of
// 1⅔µs, rounded up to 1667ns) with continuous demand (the clock steps less than a full refill),
// Burst + ⌊T/interval⌋ units have passed at time T; every denial's RetryAfter is the first microsecond at which the call passes. The start
// time sits just below a whole second, so the script's carries are exercised.
func TestGCRAExactOnAControlledClock(t *testing.T) {
	st := storetest.New(t)
	lim := newLimiter(t, st.Store, ratelimit.Options{})
	ctx := context.Background()
	limit := ratelimit.Limit{Rate: 600_000, Period: time.Second, Burst: 300} // refills in 500µs
	const interval = 1667 * time.Nanosecond
	start := time.Unix(1_700_000_000, 999_998_000)
	var passed int64
	for step := range 21 {
		elapsed := time.Duration(step) * 111 * time.Microsecond
		st.Redis.SetTime(start.Add(elapsed))
		for {
			r, err := lim.Allow(ctx, "k", limit)
			if err != nil {
				t.Fatal(err)
			}
			if r.OK() {
				passed++
				continue
			}
			if r.RetryAfter <= 0 || r.RetryAfter%time.Microsecond != 0 || r.RetryAfter > interval+time.Microsecond {
				t.Fatalf("at %v: RetryAfter %v", elapsed, r.RetryAfter)
			}
			st.Redis.SetTime(start.Add(elapsed + r.RetryAfter - time.Microsecond))
			if r, err := lim.AllowN(ctx, "k", limit, 0); err != nil || r.Remaining != 0 {
				t.Fatalf("at %v, a microsecond before RetryAfter: %+v, %v", elapsed, r, err)
			}
			st.Redis.SetTime(start.Add(elapsed + r.RetryAfter))
			if r, err := lim.AllowN(ctx, "k", limit, 0); err != nil || r.Remaining != 1 {
				t.Fatalf("at %v, RetryAfter later: %+v, %v", elapsed, r, err)
			}
			st.Redis.SetTime(start.Add(elapsed))
			break
		}
		if want := limit.Burst + int64(elapsed/interval); passed != want {
			t.Fatalf("at %v: %d passed, want exactly %d", elapsed, passed, want)
		}
	}
}
