package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/loadtest/internal/redisproc"
)

// target is the Redis a run talks to, and how to reach it.
type target struct {
	desc  string
	addrs []string
	// server is the redis-server of the harness's own (-start-redis, -chaos), nil otherwise.
	server *redisproc.Server
	close  func()
}

// openTarget starts or names the run's Redis. Its close stops whatever it started.
func openTarget(c config) (*target, error) {
	switch {
	case c.redisAddr != "":
		return &target{desc: "redis " + c.redisAddr, addrs: []string{c.redisAddr}, close: func() {}}, nil
	case len(c.clusterAddrs) > 0:
		return &target{desc: "redis cluster " + strings.Join(c.clusterAddrs, ","), addrs: c.clusterAddrs, close: func() {}}, nil
	case c.startRedis || c.chaos:
		srv, err := redisproc.Start()
		if err != nil {
			return nil, err
		}
		desc := fmt.Sprintf("redis-server %s (started for this run, pid %d, no persistence)", srv.Addr, srv.PID())
		return &target{desc: desc, addrs: []string{srv.Addr}, server: srv, close: srv.Close}, nil
	}
	mr, err := miniredis.Run()
	if err != nil {
		return nil, fmt.Errorf("embedded redis: %w", err)
	}
	return &target{desc: "embedded miniredis (in-process: it shares the CPU with the workers; use -start-redis or -redis for a real server)",
		addrs: []string{mr.Addr()}, close: mr.Close}, nil
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
