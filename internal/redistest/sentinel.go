package redistest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// SentinelMaster is the name the sentinels of [StartSentinel] monitor.
const SentinelMaster = "igniter"

// Sentinel is a Sentinel-managed set-up owned by one test: a primary, replicas, and sentinels
// that fail the primary over about a second after it stops answering. Every process is on a free
// loopback port and killed at the test's cleanup.
type Sentinel struct {
	// Primary and Replicas are the data nodes as started; after a failover a replica is the
	// primary (ask [Sentinel.PrimaryAddr]).
	Primary  *Server
	Replicas []*Server
	// Sentinels are the sentinel processes; SentinelAddrs their addresses.
	Sentinels     []*Server
	SentinelAddrs []string
}

// SentinelOptions shape a test Sentinel set-up. Zero fields mean the defaults given.
type SentinelOptions struct {
	// Replicas is the number of replicas. Default 1.
	Replicas int
	// Sentinels is the number of sentinels; the quorum is a majority of them. Default 3.
	Sentinels int
	// DownAfter is down-after-milliseconds: how long the primary may be silent before the
	// sentinels fail it over. Default 1s.
	DownAfter time.Duration
}

// StartSentinel starts one primary, o.Replicas replicas and o.Sentinels sentinels (redis-server
// --sentinel) monitoring the primary as [SentinelMaster], and waits until the replicas are in
// sync and every sentinel knows every replica and every other sentinel: only then can they agree
// on a failover. It skips or fails as [Start] does when redis-server is missing.
func StartSentinel(t testing.TB, o SentinelOptions) *Sentinel {
	t.Helper()
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.Sentinels <= 0 {
		o.Sentinels = 3
	}
	if o.DownAfter <= 0 {
		o.DownAfter = time.Second
	}
	s := &Sentinel{Primary: Start(t)}
	for range o.Replicas {
		s.Replicas = append(s.Replicas, Start(t, "--replicaof", "127.0.0.1", strconv.Itoa(s.Primary.Port)))
	}
	quorum := o.Sentinels/2 + 1
	for range o.Sentinels {
		dir := t.TempDir()
		srv := &Server{t: t, bin: Binary(), ready: "+monitor master"}
		srv.repick = func() {
			port := freePort(t)
			conf := filepath.Join(dir, "sentinel.conf") // sentinels rewrite their config: a file of their own
			text := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\n"+
				"sentinel monitor %s 127.0.0.1 %d %d\n"+
				"sentinel down-after-milliseconds %[3]s %[6]d\n"+
				"sentinel failover-timeout %[3]s %[7]d\n"+
				"sentinel parallel-syncs %[3]s 1\n",
				port, dir, SentinelMaster, s.Primary.Port, quorum, o.DownAfter.Milliseconds(), 4*o.DownAfter.Milliseconds())
			if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
				t.Fatalf("redistest: %v", err)
			}
			srv.Addr, srv.Port, srv.args = "127.0.0.1:"+strconv.Itoa(port), port, []string{conf, "--sentinel"}
		}
		srv.repick()
		srv.start()
		srv.repick = nil
		t.Cleanup(srv.Kill)
		s.Sentinels = append(s.Sentinels, srv)
		s.SentinelAddrs = append(s.SentinelAddrs, srv.Addr)
	}
	s.waitReady(t, o.Replicas, o.Sentinels-1)
	return s
}

// waitReady polls every sentinel until it knows replicas synced replicas and others other
// sentinels, or fails after 30s. Discovery runs on the sentinels' 1-2s hello messages.
func (s *Sentinel) waitReady(t testing.TB, replicas, others int) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for _, addr := range s.SentinelAddrs {
		sc := redis.NewSentinelClient(&redis.Options{Addr: addr, MaxRetries: -1})
		for {
			reps, err1 := sc.Replicas(ctx, SentinelMaster).Result()
			sens, err2 := sc.Sentinels(ctx, SentinelMaster).Result()
			synced := 0
			for _, r := range reps {
				if r["master-link-status"] == "ok" {
					synced++
				}
			}
			if err1 == nil && err2 == nil && synced >= replicas && len(sens) >= others {
				break
			}
			if time.Now().After(deadline) {
				_ = sc.Close()
				t.Fatalf("redistest: sentinel %s knows %d synced replicas and %d sentinels after 30s (%v %v)", addr, synced, len(sens), err1, err2)
			}
			time.Sleep(100 * time.Millisecond)
		}
		_ = sc.Close()
	}
}

// PrimaryAddr asks the sentinels which address is the primary now.
func (s *Sentinel) PrimaryAddr(t testing.TB) string {
	t.Helper()
	for _, addr := range s.SentinelAddrs {
		sc := redis.NewSentinelClient(&redis.Options{Addr: addr, MaxRetries: -1})
		v, err := sc.GetMasterAddrByName(context.Background(), SentinelMaster).Result()
		_ = sc.Close()
		if err == nil && len(v) == 2 {
			return v[0] + ":" + v[1]
		}
	}
	t.Fatalf("redistest: no sentinel names a primary")
	return ""
}

// Client returns a go-redis failover client (it asks the sentinels for the primary and follows
// failovers), closed at cleanup, with go-redis's retries off and ctx deadlines honoured
// (ContextTimeoutEnabled) as the store requires.
func (s *Sentinel) Client(t testing.TB) *redis.Client {
	rdb := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName: SentinelMaster, SentinelAddrs: s.SentinelAddrs, MaxRetries: -1, ContextTimeoutEnabled: true,
	})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}
