package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/loadtest/internal/redisproc"
	"github.com/igniter-go/store/loadtest/internal/report"
)

// target is the Redis a run talks to, and how to reach it.
type target struct {
	desc  string
	info  report.Target // what the report's banner says; buildStore fills in the version
	addrs []string
	// server is the redis-server of the harness's own (-start-redis, -chaos), nil otherwise.
	server *redisproc.Server
	close  func()
}

// openTarget starts or names the run's Redis. Its close stops whatever it started.
func openTarget(c config) (*target, error) {
	switch {
	case c.redisAddr != "":
		return newTarget(report.TargetRedis, "redis "+c.redisAddr, []string{c.redisAddr}, nil, func() {}), nil
	case len(c.clusterAddrs) > 0:
		return newTarget(report.TargetCluster, "redis cluster "+strings.Join(c.clusterAddrs, ","), c.clusterAddrs, nil, func() {}), nil
	case c.startRedis || c.chaos:
		srv, err := redisproc.Start()
		if err != nil {
			return nil, err
		}
		desc := fmt.Sprintf("redis-server %s (started for this run, pid %d, no persistence)", srv.Addr, srv.PID())
		return newTarget(report.TargetStarted, desc, []string{srv.Addr}, srv, srv.Close), nil
	}
	mr, err := miniredis.Run()
	if err != nil {
		return nil, fmt.Errorf("embedded redis: %w", err)
	}
	return newTarget(report.TargetMiniredis, "embedded miniredis (in-process: it shares the CPU with the workers; use -start-redis or -redis for a real server)",
		[]string{mr.Addr()}, nil, mr.Close), nil
}

func newTarget(kind, desc string, addrs []string, srv *redisproc.Server, closeFn func()) *target {
	return &target{desc: desc, info: report.Target{Kind: kind, Addresses: addrs, Description: desc}, addrs: addrs, server: srv, close: closeFn}
}

// serverVersion returns the server's redis_version (INFO server), or "" when it does not say.
func serverVersion(ctx context.Context, rdb redis.UniversalClient) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	info, err := rdb.Info(ctx, "server").Result()
	if err != nil {
		return ""
	}
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
			return v
		}
	}
	return ""
}

// client returns a new go-redis client for the target, with its own retries off (the store
// retries) and a pool sized for the workers.
func (t *target) client(c config, cluster bool) redis.UniversalClient {
	pool := c.concurrency + 16
	if cluster {
		return redis.NewClusterClient(&redis.ClusterOptions{Addrs: t.addrs, MaxRetries: -1, ContextTimeoutEnabled: true, PoolSize: pool})
	}
	return redis.NewClient(&redis.Options{Addr: t.addrs[0], MaxRetries: -1, ContextTimeoutEnabled: true, PoolSize: pool})
}

func (t *target) ping(ctx context.Context, rdb redis.UniversalClient) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("%s: %w", t.desc, err)
	}
	return nil
}
