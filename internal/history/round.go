package history

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/faultproxy"
	"github.com/igniter-go/store/ops"
)

// Target is a store under test and the handles that hurt it: the fault proxy between its client
// and Redis, the redis-server process, and the delayer on its client's connections. The caller
// builds the store's go-redis client on Proxy.Addr with Delayer.Dialer() (this package does not
// talk to go-redis). On a replicated set-up (a cluster, Sentinel) Replicated fails it over and
// the store's client is the set-up's own (a ClusterClient, a failover client); the other
// handles may be nil when the round injects none of their faults.
type Target struct {
	Store      *client.Store
	Proxy      *faultproxy.Proxy
	Server     Server
	Delayer    *Delayer
	Replicated Replicated
}

// RoundOptions shape one round: a few seconds of one cell's workload under faults, recorded
// into one history and checked.
type RoundOptions struct {
	// Seed picks the fault schedule and every client's operations.
	Seed uint64
	// Duration is how long the clients run. Default: 2s.
	Duration time.Duration
	// Clients is how many clients run at once (a stream cell's appenders). Default: 4.
	Clients int
	// PerClient caps each client's operations, bounding the check's cost. Default: 2500.
	PerClient int
	// Pace is how long each client of a model cell waits after each operation (0: not at all),
	// so that a long round (a failover's) keeps its clients running within PerClient.
	Pace time.Duration
	// Faults are the kinds injected, one at a time in a seeded order, for the whole round.
	Faults []Fault
	// Prefix is prepended to every key and stream name, so rounds on one server do not meet. On
	// a cluster it must hold a hash tag ("{r1}:"): the round's keys then share one slot, whose
	// primary the failover faults replace.
	Prefix string
	// CheckTimeout bounds the check of each partition (porcupine); a timed-out check is
	// verdict Unknown. Default: 30s.
	CheckTimeout time.Duration
	// Logf receives each fault as it is injected, when set.
	Logf func(string, ...any)
}

func (o RoundOptions) withDefaults() RoundOptions {
	if o.Duration <= 0 {
		o.Duration = 2 * time.Second
	}
	if o.Clients <= 0 {
		o.Clients = 4
	}
	if o.PerClient <= 0 {
		o.PerClient = 2500
	}
	if o.CheckTimeout <= 0 {
		o.CheckTimeout = 30 * time.Second
	}
	return o
}

// Round is what one round recorded and what its check found.
type Round struct {
	Cell string
	Seed uint64
	// Stats counts the recorded operations by outcome (a stream cell's: its appends).
	Stats Stats
	// Histories is the number of histories checked: 1, or one per epoch between restarts
	// without persistence. Checked is the number of operations in them (a stream cell's: the
	// deliveries handled).
	Histories, Checked int
	// Injected counts the faults that took effect, by kind.
	Injected map[Fault]int
	// Verdict is Ok, Illegal (an anomaly: Report prints the offending operations) or Unknown
	// (the check timed out).
	Verdict porcupine.CheckResult
	Report  string
	// AckedAfterFailover counts the operations (a stream cell's: appends) called after the last
	// failover fault was done that were acknowledged: a failover round proves little without
	// them. 0 when the round had no failover.
	AckedAfterFailover int
	// Ran is how long the workload ran; CheckTime how long the check took.
	Ran, CheckTime time.Duration
	// Rec holds every operation of the round.
	Rec *Recorder
	// Err is set when a fault could not be injected (the round proves less than it says).
	Err error
}

// RunRound runs one round of cell on t: o.Clients clients run the cell's workload for
// o.Duration while faults of o.Faults are injected, then the history is checked. Every fault is
// over when it returns (the server runs, unfrozen; replies are no longer delayed).
func RunRound(ctx context.Context, t Target, cell Cell, o RoundOptions) Round {
	o = o.withDefaults()
	var primaries []string
	if t.Replicated != nil {
		var err error
		if primaries, err = replicatedPrimaries(ctx, t.Replicated); err != nil {
			return Round{Cell: cell.name(), Seed: o.Seed, Rec: NewRecorder(), Err: err}
		}
	}
	rec := NewRecorder()
	faults := &Faults{Proxy: t.Proxy, Server: t.Server, Delayer: t.Delayer, Replicated: t.Replicated, Key: o.Prefix,
		Commands: cell.commands(), Rand: rand.New(rand.NewPCG(o.Seed, 0)), Logf: o.Logf, Rec: rec}
	began := time.Now()
	runCtx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	check := cell.start(runCtx, t.Store, rec, o)
	clientsDone := make(chan struct{})
	go func() {
		defer close(clientsDone)
		check.drive()
	}()
	faults.RunUntil(runCtx, clientsDone, o.Faults...)
	r := Round{Cell: cell.name(), Seed: o.Seed, Rec: rec, Injected: faults.Injected(), Err: faults.Err(), Ran: time.Since(began)}
	handovers := faults.Handovers()
	if len(handovers) > 0 {
		r.AckedAfterFailover = rec.ackedAfter(handovers[len(handovers)-1].Done)
	}
	check.verdict(ctx, &r)
	if t.Replicated != nil && r.Err == nil {
		r.Err = unplannedFailover(ctx, t.Replicated, primaries, handovers)
	}
	return r
}

// replicatedPrimaries is Replicated.Primaries, bounded by FailoverTimeout.
func replicatedPrimaries(ctx context.Context, rep Replicated) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, FailoverTimeout)
	defer cancel()
	p, err := rep.Primaries(ctx)
	if err != nil {
		return nil, fmt.Errorf("the replicated set-up is not ready to fail over: %w", err)
	}
	return p, nil
}

// unplannedFailover returns an error when the set-up's primaries after the round are not those
// before it with each handover's old primary replaced by its new one.
func unplannedFailover(ctx context.Context, rep Replicated, before []string, handovers []Handover) error {
	want := slices.Clone(before)
	for _, h := range handovers {
		if i := slices.Index(want, h.From); i >= 0 {
			want[i] = h.To
		}
	}
	got, err := replicatedPrimaries(ctx, rep)
	if err != nil {
		return err
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(want, got) {
		return fmt.Errorf("the primaries are %v after the round, the faults' handovers leave %v: a failover the faults did not make "+
			"(a node too slow for the failure detector) may have lost writes outside every recorded window, so the round proves nothing", got, want)
	}
	return nil
}

// Cell is one model's workload and check: [KVCell], [CounterCell], [LeaseCell], [StreamCell].
type Cell interface {
	name() string
	commands() []string
	// start prepares a round; drive runs its clients until ctx (the round's) ends.
	start(ctx context.Context, st *client.Store, rec *Recorder, o RoundOptions) roundRun
}

// roundRun is a cell's round in progress.
type roundRun interface {
	drive()
	// verdict waits for what the cell still needs (a stream's deliveries), checks, and fills r.
	verdict(ctx context.Context, r *Round)
}

// modelCell is a cell checked with a porcupine model.
type modelCell struct {
	label    string
	model    porcupine.Model
	writes   []string
	workload func(rec *Recorder, st *client.Store, prefix string, clients int) func(context.Context, int, *rand.Rand)
}

func (c modelCell) name() string       { return c.label }
func (c modelCell) commands() []string { return c.writes }

func (c modelCell) start(ctx context.Context, st *client.Store, rec *Recorder, o RoundOptions) roundRun {
	return &modelRun{c: c, ctx: ctx, rec: rec, o: o, step: c.workload(rec, st, o.Prefix, o.Clients)}
}

type modelRun struct {
	c    modelCell
	ctx  context.Context
	rec  *Recorder
	o    RoundOptions
	step func(context.Context, int, *rand.Rand)
}

func (m *modelRun) drive() {
	step := m.step
	if m.o.Pace > 0 {
		step = func(ctx context.Context, client int, rng *rand.Rand) {
			m.step(ctx, client, rng)
			pause(ctx, m.o.Pace)
		}
	}
	Drive(m.ctx, m.o.Seed, m.o.Clients, m.o.PerClient, step)
}

func (m *modelRun) verdict(_ context.Context, r *Round) {
	hs, st := m.rec.Histories(nil)
	res := CheckEpochs(m.c.label, m.c.model, hs, m.o.CheckTimeout)
	r.Stats, r.Histories, r.Checked = st, len(hs), res.Operations
	r.Verdict, r.Report, r.CheckTime = res.Verdict, res.Report, res.Elapsed
	if res.Verdict == porcupine.Illegal {
		// Which reading of the errors explains the history? A history that only a
		// STORE_CONNECTION_FAILED ("certainly not sent") operation having been applied explains
		// is a misclassified error (the issue-22 class), not a broken model.
		hs, _ := m.rec.Histories(ConnectionFailedMaybeApplied)
		alt := CheckEpochs(m.c.label, m.c.model, hs, m.o.CheckTimeout)
		r.Report += fmt.Sprintf("  re-checked with STORE_CONNECTION_FAILED read as maybe applied: %s\n  errors in the round: %s\n",
			verdictName(alt.Verdict), ErrorCodes(m.rec))
	}
}

// ConnectionFailedMaybeApplied is [Classify] with STORE_CONNECTION_FAILED read as an unknown
// outcome: the diagnosis of an anomaly that a misclassified error would explain.
func ConnectionFailedMaybeApplied(err error) Outcome {
	if ops.HasCode(err, ops.CodeConnectionFailed) {
		return Unknown
	}
	return Classify(err)
}

// ErrorCodes counts a recording's errors by STORE_* code (and cause), as "{CODE=n, …}".
func ErrorCodes(rec *Recorder) string {
	n := map[string]int{}
	for _, r := range rec.Records() {
		if r.Err == nil {
			continue
		}
		code := string(ops.CodeOf(r.Err))
		var e *ops.Error
		if errors.As(r.Err, &e) && e.Err != nil && e.Code != ops.CodeOutcomeUnknown {
			cause := e.Err.Error()
			if len(cause) > 40 {
				cause = cause[:40] + "…"
			}
			code += "(" + cause + ")"
		}
		n[code]++
	}
	return counts(n)
}

// FaultCounts formats the faults injected by kind ([Round.Injected]) as "{kind=n, …}".
func FaultCounts(m map[Fault]int) string { return counts(m) }

// counts formats n as "{k=v, …}", sorted by key.
func counts[K ~string](n map[K]int) string {
	parts := make([]string, 0, len(n))
	for _, k := range slices.Sorted(maps.Keys(n)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, n[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func verdictName(v porcupine.CheckResult) string {
	switch v {
	case porcupine.Ok:
		return "linearizable"
	case porcupine.Illegal:
		return "still not linearizable"
	}
	return "inconclusive"
}

// KVCell is the KV register (get, set of a value no other operation writes, delete) on three
// keys, through the store's KV; a lost reply picks SET or DEL.
func KVCell() Cell {
	return modelCell{label: "kv", model: KVModel, writes: []string{"set", "del"},
		workload: func(rec *Recorder, st *client.Store, prefix string, _ int) func(context.Context, int, *rand.Rand) {
			return KVStep(rec, []string{prefix + "a", prefix + "b", prefix + "c"}, StoreKV{Store: st})
		}}
}

// CounterCell is the counter (add 1–3, read) on two keys, through the store's Counter; a lost
// reply picks INCRBY.
func CounterCell() Cell {
	return modelCell{label: "counter", model: CounterModel, writes: []string{"incrby"},
		workload: func(rec *Recorder, st *client.Store, prefix string, _ int) func(context.Context, int, *rand.Rand) {
			return CounterStep(rec, StoreCounter{Store: st}, []string{prefix + "n", prefix + "m"})
		}}
}

// LeaseTTL is the lease cell's TTL: short enough that a lease taken by an acquisition of unknown
// outcome (whose owner never learns it holds it) frees the key again within the round.
const LeaseTTL = 200 * time.Millisecond

// LeaseCell is the lease with fences (acquire without waiting, hold, release) on one key,
// through the store's Claim.Acquire; a lost reply picks EVALSHA (the lease scripts).
func LeaseCell() Cell {
	return modelCell{label: "lease", model: LeaseModel, writes: []string{"evalsha"},
		workload: func(rec *Recorder, st *client.Store, prefix string, clients int) func(context.Context, int, *rand.Rand) {
			return LeaseStep(rec, StoreLeases{Store: st}, prefix+"job", LeaseTTL, clients)
		}}
}

// CellModel returns the porcupine model a cell's histories are checked against; false for a
// stream cell (checked by [CheckStream]).
func CellModel(c Cell) (porcupine.Model, bool) {
	m, ok := c.(modelCell)
	return m.model, ok
}
