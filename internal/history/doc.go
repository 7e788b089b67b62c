// Package history records concurrent histories of store operations under injected faults and
// checks them against sequential models with porcupine (github.com/anishathalye/porcupine), the
// linearizability checker etcd's robustness tests use.
//
// A [Recorder] takes each operation's call and return times from one monotonic clock, its input,
// its output and its error. The error decides the operation's [Outcome] ([Classify]):
//
//   - [OK]: the operation took effect once, between its call and its return.
//   - [Failed]: it certainly did not take effect (STORE_CONNECTION_FAILED, STORE_CIRCUIT_OPEN,
//     STORE_CLOSED, bad input, a Redis error reply). It is left out of the history.
//   - [Unknown]: it may have taken effect (STORE_OUTCOME_UNKNOWN, STORE_TIMEOUT and
//     STORE_CANCELED after the command may have been written, any error the classifier does not
//     know). As porcupine allows, it gets no output (nil: any output is accepted) and a return
//     time after the end of the history, so it can be linearized anywhere after its call —
//     including after every other operation, which no one observes: "never applied".
//
// The models ([KVModel], [CounterModel], [LeaseModel]) are partitioned per key. An operation
// that may or may not have happened but, if it did, returned its recorded output ([Uncertain]:
// a write acknowledged in a failover's loss window, or one straddling a restart without
// persistence) makes a model's state the set of both possibilities. [Check] runs
// porcupine and, when a history is not linearizable, prints the offending operations: the
// longest linearizable prefix porcupine found, the model state it reaches, the operation that
// cannot be placed after it and the operations concurrent with that one. Set HISTORY_VIZ_DIR to
// also write porcupine's HTML visualization there.
//
// [CheckStream] is the set check of a stream consumed by a group (at least once): every
// acknowledged append is handled, nothing is handled that was never appended. [StreamCell]
// drives it: appends recorded ok/failed/unknown, two Group.Consume loops handling them.
//
// [CheckTerms] is the direct check of a leader election ([LeaderCell]: candidates of package
// leader campaign, hold and lose terms): no two terms live at once, each term from its
// campaign's return to the end of its context (the validity the leader computed) or its
// resignation, and fences strictly increasing in the order terms began.
//
// Faults come from a seed ([Seed], HISTORY_SEED replays one): lost replies after the write and
// killed connections through internal/faultproxy, delayed replies through a [Delayer] on the
// client's connections, and, on the redis-server process ([Server]), a freeze (SIGSTOP, then
// SIGCONT), SIGKILL + restart with the AOF fsynced on every write (the full models must hold),
// and SIGKILL + restart without persistence ([RestartWipe]). Redis itself loses acknowledged
// writes in that last one, so the weaker documented property is checked instead: each restart is
// a reset point ([Recorder.Reset]) and every epoch between restarts must be linearizable from the
// empty state ([Recorder.Histories], [CheckEpochs]); operations in flight across a restart may
// have taken effect in either epoch; a stream's acknowledged appends called before such a
// restart may be lost.
//
// On a replicated set-up ([Replicated]: a Redis Cluster with replicas, or a primary and its
// replica under Sentinel) the faults are failovers of the primary serving the round's keys:
// [Failover] (CLUSTER FAILOVER, a coordinated handover that loses nothing, so the full models
// must hold; SENTINEL FAILOVER, which is not coordinated) and [KillPrimary] (SIGKILL, then a
// replica's promotion). Where Redis may lose acknowledged writes (SENTINEL FAILOVER, and a killed
// primary, replication being asynchronous) the weaker property "every acknowledged write is
// visible, or lost only in the failover window" is checked: the window runs from a sync point
// (a write the replica acknowledged, WAIT) to the new primary serving ([Recorder.MayLose]); an
// operation overlapping it may or may not have taken effect, a read there is left out, every
// other operation is checked against the full model. A round also fails when the set-up failed
// over by itself ([Replicated.Primaries]): writes lost then would be outside every window.
//
// Each operation's deadline is the client's own (the store's timeout), not the end of the round
// ([Drive]): a delayed reply or a frozen server makes operations of unknown outcome.
//
// [RunRound] is the reusable driver: one cell ([KVCell], [CounterCell], [LeaseCell],
// [StreamCell], [LeaderCell]) on a [Target] (the store, its fault proxy, its server, its
// delayer, or its replicated set-up) for a few seconds under a seeded fault schedule, then the
// check. The package's tests run one round per
// (model, fault) cell; the load harness's long mode (go run ./loadtest -scenario check -duration
// 10m -faults …) runs rounds back to back and prints what it checked, with the seed.
// The package's tests point the checker at clients known to break a guarantee (plain go-redis
// re-sending INCR after a lost reply, a cache that never invalidates, a consumer that loses
// entries, a leader that ignores late replies, a failover to a lagging replica) and assert that
// it reports the anomaly, then run the store through every (model, backend, fault) cell.
package history
