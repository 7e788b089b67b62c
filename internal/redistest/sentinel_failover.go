package redistest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// dataNodes returns the primary and the replicas as started.
func (s *Sentinel) dataNodes() []*Server { return append([]*Server{s.Primary}, s.Replicas...) }

// primaryNow returns the data node every sentinel names as the primary, or an error when one
// does not answer or they disagree.
func (s *Sentinel) primaryNow(ctx context.Context) (*Server, error) {
	named := ""
	for _, addr := range s.SentinelAddrs {
		sc := redis.NewSentinelClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
		v, err := sc.GetMasterAddrByName(ctx, SentinelMaster).Result()
		_ = sc.Close()
		if err != nil || len(v) != 2 {
			return nil, fmt.Errorf("sentinel %s names no primary (%v)", addr, err)
		}
		got := v[0] + ":" + v[1]
		if named != "" && got != named {
			return nil, fmt.Errorf("the sentinels disagree on the primary: %s, %s", named, got)
		}
		named = got
	}
	for _, n := range s.dataNodes() {
		if n.Addr == named {
			return n, nil
		}
	}
	return nil, fmt.Errorf("the sentinels name %s, not a data node", named)
}

// healthy returns the primary when every data node runs, every sentinel names the same primary,
// it is one, every other data node replicates from it with its link up, and every sentinel
// knows every replica (neither down nor disconnected) and every other sentinel (so a failover
// can happen). A sentinel's view of a replica's link comes from INFO every 10 s: it is not
// waited for (a failover the sentinels refuse meanwhile, NOGOODSLAVE, is asked again).
func (s *Sentinel) healthy(ctx context.Context) (*Server, error) {
	for _, n := range s.dataNodes() {
		if !n.Alive() {
			return nil, fmt.Errorf("data node %s is not running", n.Addr)
		}
	}
	p, err := s.primaryNow(ctx)
	if err != nil {
		return nil, err
	}
	if role(ctx, p.Addr) != "master" {
		return nil, fmt.Errorf("%s is not a primary yet", p.Addr)
	}
	for _, n := range s.dataNodes() {
		if n != p && !replicaOf(ctx, n.Addr, p) {
			return nil, fmt.Errorf("%s is not a replica of %s in sync", n.Addr, p.Addr)
		}
	}
	for _, addr := range s.SentinelAddrs {
		sc := redis.NewSentinelClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
		reps, err1 := sc.Replicas(ctx, SentinelMaster).Result()
		sens, err2 := sc.Sentinels(ctx, SentinelMaster).Result()
		_ = sc.Close()
		if err1 != nil || err2 != nil || len(sens) < len(s.SentinelAddrs)-1 {
			return nil, fmt.Errorf("sentinel %s knows %d other sentinels (%v %v)", addr, len(sens), err1, err2)
		}
		good := 0
		for _, r := range reps {
			if r["name"] != p.Addr && !strings.Contains(r["flags"], "down") && !strings.Contains(r["flags"], "disconnected") {
				good++
			}
		}
		if good < len(s.Replicas) {
			return nil, fmt.Errorf("sentinel %s sees %d of %d replicas up", addr, good, len(s.Replicas))
		}
	}
	return p, nil
}

// AwaitHealthy waits until the set-up can fail over (see healthy) or ctx ends, and returns the
// primary.
func (s *Sentinel) AwaitHealthy(ctx context.Context) (*Server, error) {
	var p *Server
	err := poll(ctx, "Sentinel set-up not healthy", func() (err error) {
		p, err = s.healthy(ctx)
		return err
	})
	return p, err
}

// PrimaryAddrs waits until the set-up is healthy (see AwaitHealthy) and returns the primary's
// address.
func (s *Sentinel) PrimaryAddrs(ctx context.Context) ([]string, error) {
	p, err := s.AwaitHealthy(ctx)
	if err != nil {
		return nil, err
	}
	return []string{p.Addr}, nil
}

// switched returns nil once every sentinel names a primary other than old, and that node is a
// primary.
func (s *Sentinel) switched(ctx context.Context, old *Server, h *Handover) error {
	p, err := s.primaryNow(ctx)
	if err != nil {
		return err
	}
	if p == old || role(ctx, p.Addr) != "master" {
		return errNotYet
	}
	h.To = p.Addr
	return nil
}

// Failover forces a failover with SENTINEL FAILOVER and returns once every sentinel names the
// new primary and the old one is its replica. It first waits until the set-up is healthy, then
// makes a sync point ([Handover.Synced]). SENTINEL FAILOVER is not a coordinated handover: the
// old primary goes on acknowledging writes until it is demoted, and the new primary never sees
// them, so acknowledged writes between Synced and Done may be lost. The sentinels demote it
// when they next look at it (INFO, every 10 s for a replica); Failover does it as soon as every
// sentinel names the new primary, as they do (REPLICAOF, then CLIENT KILL TYPE normal so its
// clients reconnect and ask the sentinels), so Done comes within about a second of the
// switch. ctx bounds it all.
func (s *Sentinel) Failover(ctx context.Context, key string) (Handover, error) {
	old, err := s.AwaitHealthy(ctx)
	if err != nil {
		return Handover{}, err
	}
	h := Handover{From: old.Addr}
	if h.Synced, err = syncPoint(ctx, old.Addr, key); err != nil {
		return h, err
	}
	sc := redis.NewSentinelClient(&redis.Options{Addr: s.SentinelAddrs[0], MaxRetries: -1, DialTimeout: time.Second})
	defer sc.Close()
	if err := poll(ctx, "SENTINEL FAILOVER", func() error { return sc.Failover(ctx, SentinelMaster).Err() }); err != nil {
		return h, err
	}
	if err := poll(ctx, "forced failover", func() error { return s.switched(ctx, old, &h) }); err != nil {
		return h, err
	}
	err = demote(ctx, old, h.To)
	h.Done = time.Now()
	return h, err
}

// demote makes the node a replica of primary and closes its clients' connections (theirs only),
// as the sentinels reconfigure a demoted primary.
func demote(ctx context.Context, n *Server, primary string) error {
	rdb := node(n.Addr)
	defer rdb.Close()
	host, port, _ := strings.Cut(primary, ":")
	_, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ReplicaOf(ctx, host, port)
		p.Do(ctx, "CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
		return nil
	})
	if err != nil {
		return fmt.Errorf("redistest: demote %s: %w", n.Addr, err)
	}
	return nil
}

// KillPrimary SIGKILLs the primary, waits until the sentinels have promoted the replica (after
// down-after-milliseconds and an election) and all name it, then starts the old primary again,
// empty, and makes it a replica of the new one (the next failover waits until it is in sync).
// Replication is asynchronous: what the old primary acknowledged and had not sent is lost.
// Before the kill it makes a sync point ([Handover.Synced]), unless lag is positive: then it
// cuts the replica off first and lets the primary go on alone for lag, so everything
// acknowledged in that time is lost ([Handover.Cut]). It first waits until the set-up is
// healthy. ctx bounds it all.
func (s *Sentinel) KillPrimary(ctx context.Context, key string, lag time.Duration) (Handover, error) {
	old, err := s.AwaitHealthy(ctx)
	if err != nil {
		return Handover{}, err
	}
	h := Handover{From: old.Addr}
	var replica *Server
	for _, n := range s.dataNodes() {
		if n != old {
			replica = n
			break
		}
	}
	if lag > 0 {
		if h.Cut, err = lagBehind(ctx, old, replica, lag); err != nil {
			return h, err
		}
	} else if h.Synced, err = syncPoint(ctx, old.Addr, key); err != nil {
		return h, err
	}
	old.Kill()
	h.Killed = time.Now()
	if lag > 0 {
		replica.Thaw()
	}
	err = poll(ctx, "promotion", func() error { return s.switched(ctx, old, &h) })
	h.Done = time.Now()
	old.Restart()
	if err == nil {
		err = demote(ctx, old, h.To)
	}
	return h, err
}
