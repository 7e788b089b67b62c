package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/ratelimit"
	"github.com/igniter-go/store/storetest"
)

func TestInvalidInputIsCodedAndNeverReachesRedis(t *testing.T) {
	st := storetest.New(t)
	lim := ratelimit.New(st.Store, ratelimit.Options{})
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
	lim := ratelimit.New(st.Store, ratelimit.Options{})
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
