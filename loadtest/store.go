package main

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/loadtest/internal/report"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/telemetry/opsprom"
)

// stores are the run's store and its tenants' scoped stores.
type stores struct {
	root    *client.Store
	tenants []*client.Store
}

// pick returns tenant i's scoped store (modulo the tenant count).
func (s *stores) pick(i int) *client.Store { return s.tenants[i%len(s.tenants)] }

// buildStore builds the store with the default chain on rdb (which it owns from then on),
// with metrics on m and the given observers, and one scoped store per tenant.
func buildStore(c config, t *target, m *opsprom.Metrics, observers ...ops.Observer) (*stores, error) {
	rdb := t.client(c, len(c.clusterAddrs) > 0)
	opts := []client.RedisOption{client.OwnClient()}
	if c.noPipeline {
		opts = append(opts, client.WithoutPipelining())
	}
	b := client.New().WithService("loadtest").AddScope("tenant").
		WithAdapter(client.Redis(rdb, opts...)).
		WithStreamConnections(c.consumers + 4)
	if m != nil {
		b = b.WithMetrics(m)
	}
	for _, o := range observers {
		b = b.WithObserver(o)
	}
	st, err := b.Build()
	if err != nil {
		_ = rdb.Close()
		return nil, err
	}
	if err := t.ping(context.Background(), rdb); err != nil {
		_ = st.Close()
		return nil, err
	}
	if t.info.Kind != report.TargetMiniredis { // miniredis's INFO names no version of its own
		t.info.Version = serverVersion(context.Background(), rdb)
	}
	s := &stores{root: st}
	for i := range c.tenants {
		ts, err := st.Scope("tenant", "t"+itoa(i))
		if err != nil {
			_ = st.Close()
			return nil, err
		}
		s.tenants = append(s.tenants, ts)
	}
	return s, nil
}

// metricsServer serves m's metrics on a fresh registry at addr/metrics until closed.
type metricsServer struct {
	srv  *http.Server
	addr string
	done chan struct{}
}

func serveMetrics(addr string, m *opsprom.Metrics) (*metricsServer, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(m); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	ms := &metricsServer{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}, addr: l.Addr().String(), done: make(chan struct{})}
	go func() {
		defer close(ms.done)
		// Serve returns ErrServerClosed at close; any other error ends serving, and the
		// scraper sees it (the run itself goes on).
		_ = ms.srv.Serve(l)
	}()
	return ms, nil
}

func (ms *metricsServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = ms.srv.Shutdown(ctx)
	<-ms.done
}
