package client_test

import (
	"context"
	"net"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/internal/faultproxy"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
)

// TestBackendsLostReplyAppliedOnce runs the lost-reply checks of the cluster test on a single
// node and on Sentinel: with MaxRetries: -1 go-redis sends nothing twice there, so each INCR,
// XADD, PUBLISH and lease acquisition whose reply was lost ran once. The caller sees
// STORE_OUTCOME_UNKNOWN (unavailable) there as on a cluster: one meaning per code on every
// backend (issue 22).
func TestBackendsLostReplyAppliedOnce(t *testing.T) {
	t.Run("SingleNode", func(t *testing.T) {
		t.Parallel()
		srv := redistest.Start(t)
		p := faultproxy.Start(t, srv.Addr)
		rdb := redis.NewClient(&redis.Options{Addr: p.Addr, MaxRetries: -1, ContextTimeoutEnabled: true})
		t.Cleanup(func() { _ = rdb.Close() })
		testLostReplies(t, lostEnv{service: "api", rdb: rdb, raw: srv.Client(t),
			proxies: []*faultproxy.Proxy{p}, code: ops.CodeOutcomeUnknown})
	})
	t.Run("Sentinel", func(t *testing.T) {
		t.Parallel()
		s := redistest.StartSentinel(t, redistest.SentinelOptions{})
		via := map[string]string{}
		var proxies []*faultproxy.Proxy
		for _, n := range append([]*redistest.Server{s.Primary}, s.Replicas...) {
			p := faultproxy.Start(t, n.Addr)
			proxies = append(proxies, p)
			via[n.Addr] = p.Addr
		}
		var d net.Dialer
		rdb := redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName: redistest.SentinelMaster, SentinelAddrs: s.SentinelAddrs, MaxRetries: -1, ContextTimeoutEnabled: true,
			// The sentinels name the real primary: its connections go through its proxy.
			Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
				if p, ok := via[addr]; ok {
					addr = p
				}
				return d.DialContext(ctx, network, addr)
			},
		})
		t.Cleanup(func() { _ = rdb.Close() })
		testLostReplies(t, lostEnv{service: "api", rdb: rdb, raw: s.Client(t), proxies: proxies, code: ops.CodeOutcomeUnknown})
	})
}
