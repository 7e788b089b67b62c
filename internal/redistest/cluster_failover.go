package redistest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// clusterNode is one line of CLUSTER NODES.
type clusterNode struct {
	id, addr, master string // master: the primary's id, for a replica
	primary, failing bool
	slots            [][2]int
}

func (n clusterNode) owns(slot int) bool {
	for _, r := range n.slots {
		if slot >= r[0] && slot <= r[1] {
			return true
		}
	}
	return false
}

// parseClusterNodes parses CLUSTER NODES.
func parseClusterNodes(text string) []clusterNode {
	var out []clusterNode
	for line := range strings.SplitSeq(strings.TrimSpace(text), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		addr, _, _ := strings.Cut(f[1], "@")
		addr, _, _ = strings.Cut(addr, ",")
		n := clusterNode{id: f[0], addr: addr, master: f[3]}
		for flag := range strings.SplitSeq(f[2], ",") {
			switch flag {
			case "master":
				n.primary = true
			case "fail", "fail?", "noaddr", "handshake":
				n.failing = true
			}
		}
		for _, s := range f[8:] {
			if strings.HasPrefix(s, "[") { // a slot migrating or importing
				continue
			}
			lo, hi, ranged := strings.Cut(s, "-")
			a, err1 := strconv.Atoi(lo)
			b := a
			var err2 error
			if ranged {
				b, err2 = strconv.Atoi(hi)
			}
			if err1 == nil && err2 == nil {
				n.slots = append(n.slots, [2]int{a, b})
			}
		}
		out = append(out, n)
	}
	return out
}

// server returns the node at addr.
func (c *Cluster) server(addr string) *Server {
	for _, n := range c.Nodes {
		if n.Addr == addr {
			return n
		}
	}
	return nil
}

// view returns CLUSTER NODES as the first live node that answers sees it.
func (c *Cluster) view(ctx context.Context) ([]clusterNode, error) {
	var err error
	for _, s := range c.Nodes {
		if !s.Alive() {
			continue
		}
		rdb := node(s.Addr)
		var text string
		text, err = rdb.ClusterNodes(ctx).Result()
		_ = rdb.Close()
		if err == nil {
			return parseClusterNodes(text), nil
		}
	}
	return nil, fmt.Errorf("redistest: no cluster node answers CLUSTER NODES: %v", err)
}

// shard returns the primary serving key's hash slot and its replicas, as the cluster sees them.
func (c *Cluster) shard(ctx context.Context, key string) (primary *Server, replicas []*Server, err error) {
	rdb := node(c.Nodes[0].Addr)
	for _, s := range c.Nodes {
		if s.Alive() {
			_ = rdb.Close()
			rdb = node(s.Addr)
			break
		}
	}
	slot, err := rdb.ClusterKeySlot(ctx, key).Result()
	_ = rdb.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("redistest: CLUSTER KEYSLOT: %w", err)
	}
	nodes, err := c.view(ctx)
	if err != nil {
		return nil, nil, err
	}
	var id string
	for _, n := range nodes {
		if n.primary && !n.failing && n.owns(int(slot)) {
			primary, id = c.server(n.addr), n.id
		}
	}
	if primary == nil {
		return nil, nil, fmt.Errorf("redistest: no live primary serves slot %d", slot)
	}
	for _, n := range nodes {
		if !n.primary && n.master == id && !n.failing {
			if s := c.server(n.addr); s != nil {
				replicas = append(replicas, s)
			}
		}
	}
	return primary, replicas, nil
}

// healthy returns nil when every node runs and says cluster_state:ok knowing every node, no
// node is failing, and every primary serving slots has a replica whose link is up.
func (c *Cluster) healthy(ctx context.Context) error {
	known := "cluster_known_nodes:" + strconv.Itoa(len(c.Nodes))
	for _, s := range c.Nodes {
		if !s.Alive() {
			return fmt.Errorf("node %s is not running", s.Addr)
		}
		rdb := node(s.Addr)
		info, err := rdb.ClusterInfo(ctx).Result()
		_ = rdb.Close()
		if err != nil || !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, known) {
			return fmt.Errorf("node %s: cluster not ok (%v)", s.Addr, err)
		}
	}
	nodes, err := c.view(ctx)
	if err != nil {
		return err
	}
	for _, p := range nodes {
		if p.failing {
			return fmt.Errorf("node %s is failing", p.addr)
		}
		if !p.primary || len(p.slots) == 0 {
			continue
		}
		synced := false
		for _, r := range nodes {
			if !r.primary && r.master == p.id && replicaUp(ctx, r.addr) {
				synced = true
			}
		}
		if !synced {
			return fmt.Errorf("primary %s has no replica in sync", p.addr)
		}
	}
	return nil
}

// AwaitHealthy waits until every node runs, the cluster is ok on every node, and every primary
// has a replica in sync (so a failover can happen), or ctx ends.
func (c *Cluster) AwaitHealthy(ctx context.Context) error {
	return poll(ctx, "cluster not healthy", func() error { return c.healthy(ctx) })
}

// PrimaryAddrs waits until the cluster is healthy (see AwaitHealthy) and returns the addresses
// of the primaries serving slots, as the cluster sees them.
func (c *Cluster) PrimaryAddrs(ctx context.Context) ([]string, error) {
	if err := c.AwaitHealthy(ctx); err != nil {
		return nil, err
	}
	nodes, err := c.view(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range nodes {
		if n.primary && len(n.slots) > 0 {
			out = append(out, n.addr)
		}
	}
	return out, nil
}

// Failover hands the primary of key's hash slot over to its replica with CLUSTER FAILOVER (a
// manual failover: the primary stops taking writes, the replica catches up with it, then takes
// over, so nothing acknowledged is lost), and returns once the replica is the primary and the
// old primary is its replica. It first waits until the cluster is healthy. ctx bounds it all.
func (c *Cluster) Failover(ctx context.Context, key string) (Handover, error) {
	if err := c.AwaitHealthy(ctx); err != nil {
		return Handover{}, err
	}
	primary, replicas, err := c.shard(ctx, key)
	if err != nil {
		return Handover{}, err
	}
	replica := replicas[0]
	h := Handover{From: primary.Addr, To: replica.Addr}
	rdb := node(replica.Addr)
	err = rdb.Do(ctx, "CLUSTER", "FAILOVER").Err()
	_ = rdb.Close()
	if err != nil {
		return h, fmt.Errorf("redistest: CLUSTER FAILOVER on %s: %w", replica.Addr, err)
	}
	err = poll(ctx, "manual failover", func() error {
		if role(ctx, replica.Addr) != "master" || role(ctx, primary.Addr) != "slave" {
			return errNotYet
		}
		return nil
	})
	h.Done = time.Now()
	return h, err
}

// KillPrimary SIGKILLs the primary of key's hash slot, waits until its replica took over (after
// cluster-node-timeout and an election) and serves, and starts the old primary again: it comes
// back empty and rejoins as a replica of the new one (the next failover waits until it is in
// sync). Replication is asynchronous: what the old primary acknowledged and had not sent to the
// replica is lost. Before the kill it makes a sync point ([Handover.Synced]), unless lag is
// positive: then it cuts the replica off first and lets the primary go on alone for lag, so
// everything acknowledged in that time is lost ([Handover.Cut]) — a failover to a lagging
// replica, on purpose. It first waits until the cluster is healthy. ctx bounds it all.
func (c *Cluster) KillPrimary(ctx context.Context, key string, lag time.Duration) (Handover, error) {
	if err := c.AwaitHealthy(ctx); err != nil {
		return Handover{}, err
	}
	primary, replicas, err := c.shard(ctx, key)
	if err != nil {
		return Handover{}, err
	}
	h := Handover{From: primary.Addr}
	if lag > 0 {
		if h.Cut, err = lagBehind(ctx, primary, replicas[0], lag); err != nil {
			return h, err
		}
	} else if h.Synced, err = syncPoint(ctx, primary.Addr, key); err != nil {
		return h, err
	}
	primary.Kill()
	h.Killed = time.Now()
	if lag > 0 {
		replicas[0].Thaw()
	}
	err = poll(ctx, "promotion", func() error {
		for _, r := range replicas {
			rdb := node(r.Addr)
			info, err := rdb.ClusterInfo(ctx).Result()
			_ = rdb.Close()
			if err == nil && strings.Contains(info, "cluster_state:ok") && role(ctx, r.Addr) == "master" {
				h.To = r.Addr
				return nil
			}
		}
		return errNotYet
	})
	h.Done = time.Now()
	primary.Restart()
	return h, err
}
