package history_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/history"
	"github.com/igniter-go/store/internal/redistest"
)

// The failover cells: the KV register and the counter (and a stream, on the cluster) on a real
// Redis Cluster (3 primaries, one replica each, cluster-node-timeout 2s) and under Sentinel (a
// primary, a replica, 3 sentinels, down-after 2s), through the store on the set-up's own
// go-redis client (ClusterClient, failover client; retries off; 1s operation deadline), with one
// failover fault per round (5s; 8s for kill-primary). One set-up per test (starting one takes
// seconds), its cells run one after the other as subtests: a failover hits every key of the
// set-up. Each round's keys share a hash slot (the prefix's hash tag), and the faults fail over
// the primary serving it. The SENTINEL FAILOVER fault demotes the old primary as soon as every
// sentinel names the new one (the sentinels do it at their next look, up to 10s later).
//
// What each cell checks:
//
//   - failover on the cluster (CLUSTER FAILOVER, a coordinated handover: the primary stops
//     taking writes, the replica catches up, then takes over): the full models, linearizable;
//     the stream at least once in full.
//   - failover under Sentinel (SENTINEL FAILOVER: not coordinated, the old primary acknowledges
//     writes until the sentinels demote it, and the new primary never sees them) and
//     kill-primary on both (SIGKILL, then a replica's promotion; replication is asynchronous):
//     the weaker property, "every acknowledged write is visible, or lost only in the failover
//     window". The window runs from a sync point (a write of the fault's own that WAIT saw a
//     replica acknowledge: everything acknowledged before it is on the replica) to the moment
//     the new primary served and the old one could acknowledge no more (Recorder.MayLose).
//     Operations overlapping it are of unknown outcome whatever they returned (reads left out);
//     every other operation is checked against the full model, so a write acknowledged outside
//     the window that is lost, or a stale read outside it, is an anomaly.
//
// Each cell fails when its fault did not happen, nothing was acknowledged after it, or the
// set-up failed over by itself during the round (writes lost then would be outside every
// recorded window).
func TestHistoryFailoverCluster(t *testing.T) {
	t.Parallel()
	c := redistest.StartClusterWith(t, redistest.ClusterOptions{ReplicasPerPrimary: 1, NodeTimeout: failureDetection})
	rep := clusterSetUp{c: c}
	newStore := func(t *testing.T) *client.Store {
		return failoverStore(t, redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs, MaxRetries: -1,
			ContextTimeoutEnabled: true, PoolSize: cellClients}))
	}
	runFailoverCells(t, newStore, rep, clusterSetUp{c: c, lag: plantedLag},
		failoverCell{"KVRegisterFailover", history.KVCell(), history.Failover},
		failoverCell{"CounterFailover", history.CounterCell(), history.Failover},
		failoverCell{"StreamFailover", history.StreamCell(), history.Failover},
		failoverCell{"KVRegisterKillPrimary", history.KVCell(), history.KillPrimary},
		failoverCell{"CounterKillPrimary", history.CounterCell(), history.KillPrimary})
}

// runFailoverCells runs each cell on a store of its own against rep, then the planted cell: the
// checker catches Redis losing acknowledged writes outside the window it was told of. lagged is
// rep whose replica is cut off (and frozen) 300ms before the primary is killed, so it is promoted
// without what the primary acknowledged meanwhile, while the fault reports the loss window as
// starting at the kill, as a checker trusting the replica to be in sync would.
func runFailoverCells(t *testing.T, newStore func(*testing.T) *client.Store, rep, lagged history.Replicated, cells ...failoverCell) {
	for _, fc := range cells {
		t.Run(fc.name, func(t *testing.T) {
			runFailoverCell(t, fc, history.Target{Store: newStore(t), Replicated: rep}, true)
		})
	}
	t.Run("PlantedLaggingReplica", func(t *testing.T) {
		runFailoverCell(t, failoverCell{"PlantedLaggingReplica", history.CounterCell(), history.KillPrimary},
			history.Target{Store: newStore(t), Replicated: lagged}, false)
	})
}

// TestHistoryFailoverSentinel is TestHistoryFailoverCluster under Sentinel.
func TestHistoryFailoverSentinel(t *testing.T) {
	t.Parallel()
	s := redistest.StartSentinel(t, redistest.SentinelOptions{DownAfter: failureDetection})
	rep := sentinelSetUp{s: s}
	newStore := func(t *testing.T) *client.Store {
		return failoverStore(t, redis.NewFailoverClient(&redis.FailoverOptions{MasterName: redistest.SentinelMaster,
			SentinelAddrs: s.SentinelAddrs, MaxRetries: -1, ContextTimeoutEnabled: true, PoolSize: cellClients}))
	}
	runFailoverCells(t, newStore, rep, sentinelSetUp{s: s, lag: plantedLag},
		failoverCell{"KVRegisterFailover", history.KVCell(), history.Failover},
		failoverCell{"CounterFailover", history.CounterCell(), history.Failover},
		failoverCell{"KVRegisterKillPrimary", history.KVCell(), history.KillPrimary},
		failoverCell{"CounterKillPrimary", history.CounterCell(), history.KillPrimary})
}

// failoverOpTimeout is the failover cells' operation deadline. An operation waiting for a
// connection to a dead primary until its deadline fails with STORE_TIMEOUT, an outcome unknown
// to the checker; with cellOpTimeout's 250ms the seconds of a promotion under Sentinel make
// dozens of them, and a counter history with that many adds of unknown outcome takes porcupine
// longer than the test has.
const failoverOpTimeout = time.Second

// failoverPace paces a failover cell's clients, so that they run the whole round within
// cellPerClient operations each.
const failoverPace = 2 * time.Millisecond

// failureDetection is cluster-node-timeout and Sentinel's down-after-milliseconds: how long a
// primary may not answer before it is failed over. With 1s, a node or a sentinel slowed down by
// a busy machine (load above 15 on 2 cores was seen) was failed over by the set-up itself,
// which the rounds then report as an unplanned failover; 2s leaves twice the margin.
const failureDetection = 2 * time.Second

// plantedLag is how long the planted lagging replica is cut off before its primary is killed.
const plantedLag = 300 * time.Millisecond

// failoverCell is one (model, fault) cell on a replicated set-up.
type failoverCell struct {
	name  string
	cell  history.Cell
	fault history.Fault
}

// failoverDuration is how long a failover cell's clients run: the fault waits 300–800ms, then
// the promotion takes up to a few seconds (failure detection and an election after a kill; a
// manual failover took up to 2.4s on the busy machine), and the clients must work on the new
// primary after it, once the store's breaker (opened by the outage) has closed again.
func failoverDuration(f history.Fault) time.Duration {
	if f == history.KillPrimary {
		return 8 * time.Second
	}
	return 5 * time.Second
}

// failoverStore builds the store of a failover cell on rdb, closed (with rdb) at cleanup.
func failoverStore(t *testing.T, rdb redis.UniversalClient) *client.Store {
	t.Helper()
	st, err := client.New().WithAdapter(client.Redis(rdb, client.OwnClient())).WithService("history").
		WithTimeout(failoverOpTimeout).Build()
	if err != nil {
		_ = rdb.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// runFailoverCell runs one round of fc on tgt and asserts its verdict: linearizable (legal), or,
// for a planted defect, an anomaly with the offending operations printed.
func runFailoverCell(t *testing.T, fc failoverCell, tgt history.Target, legal bool) {
	t.Helper()
	seed := history.Seed(t)
	r := history.RunRound(context.Background(), tgt, fc.cell, history.RoundOptions{Seed: seed, Duration: failoverDuration(fc.fault),
		Clients: cellClients, PerClient: cellPerClient, Pace: failoverPace, Faults: []history.Fault{fc.fault}, Prefix: "{" + fc.name + "}:", Logf: t.Logf})
	t.Logf("CELL %s: histories %d, operations %d (ok %d, failed %d, unknown %d; %d acknowledged in a loss window), checked %d, "+
		"acknowledged after the failover %d, faults %s, verdict %s, run %v, check %v, errors %s",
		t.Name(), r.Histories, r.Stats.Total(), r.Stats.OK, r.Stats.Failed, r.Stats.Unknown, r.Stats.Excused, r.Checked,
		r.AckedAfterFailover, history.FaultCounts(r.Injected), r.Verdict, r.Ran.Round(time.Millisecond),
		r.CheckTime.Round(time.Millisecond), history.ErrorCodes(r.Rec))
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if r.Injected[fc.fault] == 0 {
		t.Fatalf("no %s fault took effect: the run proves nothing", fc.fault)
	}
	if r.Stats.OK == 0 || r.Checked == 0 || r.AckedAfterFailover == 0 {
		t.Fatalf("%d operations acknowledged, %d after the failover, %d checked: the run proves nothing",
			r.Stats.OK, r.AckedAfterFailover, r.Checked)
	}
	assertVerdict(t, history.Result{Verdict: r.Verdict, Report: r.Report}, legal)
}

// clusterSetUp is a redistest cluster as a history.Replicated; lag > 0 plants a failover to a
// lagging replica whose loss window is misreported (see PlantedLaggingReplica).
type clusterSetUp struct {
	c   *redistest.Cluster
	lag time.Duration
}

func (s clusterSetUp) Failover(ctx context.Context, key string) (history.Handover, error) {
	h, err := s.c.Failover(ctx, key)
	return handover(h, false), err
}

func (s clusterSetUp) KillPrimary(ctx context.Context, key string) (history.Handover, error) {
	h, err := s.c.KillPrimary(ctx, key, s.lag)
	return handover(h, s.lag > 0), err
}

func (s clusterSetUp) Primaries(ctx context.Context) ([]string, error) { return s.c.PrimaryAddrs(ctx) }

// sentinelSetUp is a redistest Sentinel set-up as a history.Replicated.
type sentinelSetUp struct {
	s   *redistest.Sentinel
	lag time.Duration
}

func (s sentinelSetUp) Failover(ctx context.Context, key string) (history.Handover, error) {
	h, err := s.s.Failover(ctx, key)
	return handover(h, false), err
}

func (s sentinelSetUp) KillPrimary(ctx context.Context, key string) (history.Handover, error) {
	h, err := s.s.KillPrimary(ctx, key, s.lag)
	return handover(h, s.lag > 0), err
}

func (s sentinelSetUp) Primaries(ctx context.Context) ([]string, error) { return s.s.PrimaryAddrs(ctx) }

// handover maps a redistest handover to the history's: acknowledged writes may be lost from its
// sync point, or from the cut of a lagging replica; planted misreports a lagging replica's
// window as starting at the kill.
func handover(h redistest.Handover, planted bool) history.Handover {
	out := history.Handover{MayLoseFrom: h.Synced, Done: h.Done, Killed: h.Killed, From: h.From, To: h.To}
	switch {
	case planted:
		out.MayLoseFrom = h.Killed
	case !h.Cut.IsZero():
		out.MayLoseFrom = h.Cut
	}
	return out
}
