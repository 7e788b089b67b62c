package client_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	storetimeout "github.com/igniter-go/store/middleware/timeout"
	"github.com/igniter-go/store/ops"
)

// silentServer is a server that accepts TCP connections and never answers: a Redis behind a
// stuck proxy, a host whose process is wedged. It holds every connection until the test ends.
func silentServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		done  = make(chan struct{})
	)
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return l.Addr().String()
}

// deadlineSlack is how late past its deadline a call may return. It is a correctness bound, not
// a timing measurement: the defect it catches returns 3 s late with a 2 s deadline (go-redis's
// handshake waits out its 5 s ReadTimeout) and 5 s late without one (retry starts a second
// attempt when the first ends at the deadline), so 1 s leaves room for a loaded machine and
// still fails the defect by seconds.
const deadlineSlack = time.Second

// TestCallerDeadlineBoundsTheCallExactlyOnce calls KV.Get on a server that accepts TCP and never
// answers, on go-redis's default timeouts (DialTimeout, ReadTimeout 5 s), with pipelining on and
// off, as a single node, a cluster seed and a sentinel: every call must return by its deadline with STORE_TIMEOUT, the caller's own deadline or
// the store's default (timeout.Default, 5 s) when ctx has none. Retry must not start an attempt
// after the deadline.
func TestCallerDeadlineBoundsTheCallExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out a 5 s default deadline")
	}
	addr := silentServer(t)
	single := func() redis.UniversalClient {
		return redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, ContextTimeoutEnabled: true})
	}
	cluster := func() redis.UniversalClient {
		return redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{addr}, MaxRetries: -1, ContextTimeoutEnabled: true})
	}
	sentinel := func() redis.UniversalClient { // the silent server is the sentinel
		return redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "m", SentinelAddrs: []string{addr}, MaxRetries: -1, ContextTimeoutEnabled: true})
	}
	for _, tc := range []struct {
		name     string
		rdb      func() redis.UniversalClient
		deadline time.Duration // 0: none, the store's default applies
		opts     []client.RedisOption
	}{
		{"2s deadline", single, 2 * time.Second, nil},
		{"2s deadline, no pipelining", single, 2 * time.Second, []client.RedisOption{client.WithoutPipelining()}},
		{"no deadline", single, 0, nil},
		{"no deadline, no pipelining", single, 0, []client.RedisOption{client.WithoutPipelining()}},
		{"cluster, 2s deadline", cluster, 2 * time.Second, nil},
		{"cluster, no deadline", cluster, 0, nil},
		{"sentinel, 2s deadline", sentinel, 2 * time.Second, nil},
		{"sentinel, no deadline", sentinel, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rdb := tc.rdb()
			st, err := client.New().WithService("api").WithAdapter(client.Redis(rdb, append(tc.opts, client.OwnClient())...)).Build()
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			ctx := context.Background()
			limit := storetimeout.Default
			if tc.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.deadline)
				defer cancel()
				limit = tc.deadline
			}
			start := time.Now()
			var v string
			_, err = st.KV.Get(ctx, "k", &v)
			took := time.Since(start)
			if took > limit+deadlineSlack {
				t.Errorf("KV.Get returned after %v, its deadline was %v (slack %v)", took, limit, deadlineSlack)
			}
			var e *ops.Error
			if !errors.As(err, &e) || e.Code != ops.CodeTimeout {
				t.Errorf("KV.Get error = %v, want %s", err, ops.CodeTimeout)
			}
			if err != nil && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("a STORE_TIMEOUT wraps context.DeadlineExceeded: %v", err)
			}
			t.Logf("returned after %v: %v", took, err)
		})
	}
}

// TestBuildRequiresDeadlinesExactlyOnce: Build refuses, with STORE_CONFIGURATION_INVALID naming
// the setting, a go-redis client that would not let a ctx deadline bound a call: one without
// ContextTimeoutEnabled (go-redis's default), or one with no socket deadlines (-2). It reads
// only the options: the address is never dialled. Before the fix every such client was
// accepted, and a call with a 2 s deadline to a silent server returned after 5 s.
func TestBuildRequiresDeadlinesExactlyOnce(t *testing.T) {
	const nowhere = "127.0.0.1:1"
	for _, tc := range []struct {
		name    string
		rdb     redis.UniversalClient
		details map[string]any // nil: Build succeeds
	}{
		{"client without ContextTimeoutEnabled", redis.NewClient(&redis.Options{Addr: nowhere, MaxRetries: -1}),
			map[string]any{"contextTimeoutEnabled": false}},
		{"cluster without ContextTimeoutEnabled", redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{nowhere}, MaxRetries: -1}),
			map[string]any{"contextTimeoutEnabled": false}},
		{"sentinel without ContextTimeoutEnabled", redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "m", SentinelAddrs: []string{nowhere}, MaxRetries: -1}),
			map[string]any{"contextTimeoutEnabled": false}},
		{"ring without ContextTimeoutEnabled", redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": nowhere}, MaxRetries: -1}),
			map[string]any{"contextTimeoutEnabled": false}},
		{"client with ReadTimeout -2", redis.NewClient(&redis.Options{Addr: nowhere, MaxRetries: -1, ContextTimeoutEnabled: true, ReadTimeout: -2}),
			map[string]any{"readTimeout": -2}},
		{"cluster with WriteTimeout -2", redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{nowhere}, MaxRetries: -1, ContextTimeoutEnabled: true, WriteTimeout: -2}),
			map[string]any{"writeTimeout": -2}},
		{"ring with ReadTimeout -2", redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": nowhere}, MaxRetries: -1, ContextTimeoutEnabled: true, ReadTimeout: -2}),
			map[string]any{"readTimeout": -2}},
		{"client", redis.NewClient(&redis.Options{Addr: nowhere, MaxRetries: -1, ContextTimeoutEnabled: true}), nil},
		{"client with no ReadTimeout (-1)", redis.NewClient(&redis.Options{Addr: nowhere, MaxRetries: -1, ContextTimeoutEnabled: true, ReadTimeout: -1}), nil},
		{"cluster", redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{nowhere}, MaxRetries: -1, ContextTimeoutEnabled: true}), nil},
		{"ring with no ReadTimeout (-1)", redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": nowhere}, MaxRetries: -1, ContextTimeoutEnabled: true, ReadTimeout: -1}), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer tc.rdb.Close()
			st, err := client.New().WithService("api").WithAdapter(client.Redis(tc.rdb)).Build()
			if tc.details == nil {
				if err != nil {
					t.Fatal(err)
				}
				_ = st.Close()
				return
			}
			if st != nil {
				t.Fatal("a failed Build must return no store")
			}
			wantErr(t, err, ops.CodeConfigurationInvalid, 500, "", tc.details)
			if !errors.Is(err, ops.ErrInvalid) {
				t.Fatalf("configuration errors are ErrInvalid: %v", err)
			}
		})
	}
}
