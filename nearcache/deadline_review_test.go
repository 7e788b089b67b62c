package nearcache_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/nearcache"
	"github.com/igniter-go/store/ops"
)

// TestNearCacheGetBoundedByItsDeadlineExactlyOnce: a near-cache read on a server that froze
// must return by its deadline with STORE_TIMEOUT, as KV.Get does. The near cache opens its own
// client from Options.Redis, which Build's ContextTimeoutEnabled check never sees, and its reads
// bypass the store's timeout middleware. Found by the issue-22 review: with Options.Redis as the
// package examples write it (no ContextTimeoutEnabled), a read with a 500 ms deadline returned
// after 5 s (go-redis's ReadTimeout) with STORE_CONNECTION_FAILED; with no deadline it waits
// ReadTimeout too (forever with ReadTimeout -1), not the store's 5 s default. The 1 s slack is a
// correctness bound: the defect is 4.5 s late.
func TestNearCacheGetBoundedByItsDeadlineExactlyOnce(t *testing.T) {
	srv := redistest.StartFreezable(t)
	st, err := client.New().WithService("api").WithAdapter(client.Redis(srv.Client(t))).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n, err := nearcache.New(st, nearcache.Options{Redis: &redis.Options{Addr: srv.Addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	srv.Freeze()
	defer srv.Thaw()
	const deadline = 500 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	var v string
	_, err = n.Get(ctx, "k", &v)
	if took := time.Since(start); took > deadline+time.Second {
		t.Errorf("Near.Get returned after %v, its deadline was %v", took, deadline)
	}
	var e *ops.Error
	if !errors.As(err, &e) || e.Code != ops.CodeTimeout {
		t.Errorf("Near.Get error = %v, want %s", err, ops.CodeTimeout)
	}
}
