package history_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/faultproxy"
	"github.com/igniter-go/store/internal/history"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
)

// A cell runs the store on a single redis-server, behind a fault proxy, with one model's
// workload and one kind of fault, and checks the history (history.RunRound).
type cell struct {
	cell   history.Cell
	fault  history.Fault
	server []string      // extra redis-server arguments
	dur    time.Duration // how long the clients run, when not the default
}

// duration is how long the cell's clients run: a restart cell runs longer, as each restart
// leaves the store's breaker open for a second.
func (c cell) duration() time.Duration {
	if c.dur > 0 {
		return c.dur
	}
	if c.fault == history.Restart || c.fault == history.RestartWipe {
		return cellDuration + time.Second
	}
	return cellDuration
}

// The cells' sizes: small enough that every cell runs in a few seconds on a shared core.
const (
	cellClients   = 4
	cellPerClient = 2500
	cellDuration  = 2 * time.Second
	cellOpTimeout = 250 * time.Millisecond
)

// newCell is a cell of model under fault. A restart cell runs redis with the AOF fsynced before
// each reply: SIGKILL loses nothing acknowledged, and the full model must hold.
func newCell(model history.Cell, f history.Fault) cell {
	c := cell{cell: model, fault: f}
	if f == history.Restart {
		c.server = []string{"--appendonly", "yes", "--appendfsync", "always"}
	}
	return c
}

func kvCell(f history.Fault) cell      { return newCell(history.KVCell(), f) }
func counterCell(f history.Fault) cell { return newCell(history.CounterCell(), f) }
func leaseCell(f history.Fault) cell   { return newCell(history.LeaseCell(), f) }

func TestHistoryKVRegisterLostReplies(t *testing.T) { runCell(t, kvCell(history.LostReply)) }
func TestHistoryKVRegisterKilledConnections(t *testing.T) {
	runCell(t, kvCell(history.KillConnections))
}
func TestHistoryKVRegisterDelayedReplies(t *testing.T) { runCell(t, kvCell(history.DelayReplies)) }
func TestHistoryKVRegisterRestart(t *testing.T)        { runCell(t, kvCell(history.Restart)) }

func TestHistoryCounterLostReplies(t *testing.T) { runCell(t, counterCell(history.LostReply)) }
func TestHistoryCounterKilledConnections(t *testing.T) {
	runCell(t, counterCell(history.KillConnections))
}
func TestHistoryCounterDelayedReplies(t *testing.T) { runCell(t, counterCell(history.DelayReplies)) }
func TestHistoryCounterRestart(t *testing.T)        { runCell(t, counterCell(history.Restart)) }

func TestHistoryLeaseLostReplies(t *testing.T)       { runCell(t, leaseCell(history.LostReply)) }
func TestHistoryLeaseKilledConnections(t *testing.T) { runCell(t, leaseCell(history.KillConnections)) }
func TestHistoryLeaseDelayedReplies(t *testing.T)    { runCell(t, leaseCell(history.DelayReplies)) }
func TestHistoryLeaseRestart(t *testing.T)           { runCell(t, leaseCell(history.Restart)) }

// testServer is a redistest server as a history.Server (redistest fails the test itself).
type testServer struct{ *redistest.Server }

func (s testServer) Restart() error      { s.Server.Restart(); return nil }
func (s testServer) RestartEmpty() error { s.Server.RestartEmpty(); return nil }
func (s testServer) Freeze() error       { s.Server.Freeze(); return nil }
func (s testServer) Thaw() error         { s.Server.Thaw(); return nil }

// startTarget starts a redis-server with extra arguments, a fault proxy in front of it and the
// store on a go-redis client through the proxy (retries off, ctx deadlines honoured, replies
// delayable), as history.RunRound needs them.
func startTarget(t *testing.T, extra ...string) history.Target {
	t.Helper()
	srv := redistest.Start(t, extra...)
	p := faultproxy.Start(t, srv.Addr)
	delay := &history.Delayer{}
	st := storeOn(t, p.Addr, delay.Dialer())
	return history.Target{Store: st, Proxy: p, Server: testServer{srv}, Delayer: delay}
}

// storeOn builds a store on a go-redis client of addr (retries off, ctx deadlines honoured, on
// dialer when one is given), closed at cleanup.
func storeOn(t *testing.T, addr string, dialer ...func(context.Context, string, string) (net.Conn, error)) *client.Store {
	t.Helper()
	o := &redis.Options{Addr: addr, MaxRetries: -1, ContextTimeoutEnabled: true, PoolSize: cellClients}
	if len(dialer) > 0 {
		o.Dialer = dialer[0]
	}
	rdb := redis.NewClient(o)
	st, err := client.New().WithAdapter(client.Redis(rdb, client.OwnClient())).WithService("history").
		WithTimeout(cellOpTimeout).Build()
	if err != nil {
		_ = rdb.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// runRound runs one round of c on a target of its own and logs its CELL line.
func runRound(t *testing.T, c cell) history.Round {
	t.Helper()
	return runRoundOn(t, c, startTarget(t, c.server...))
}

// runRoundOn is runRound on a target already started.
func runRoundOn(t *testing.T, c cell, tgt history.Target) history.Round {
	t.Helper()
	seed := history.Seed(t)
	r := history.RunRound(context.Background(), tgt, c.cell, history.RoundOptions{Seed: seed, Duration: c.duration(),
		Clients: cellClients, PerClient: cellPerClient, Faults: []history.Fault{c.fault}, Logf: t.Logf})
	t.Logf("CELL %s: histories %d, operations %d (ok %d, failed %d, unknown %d), checked %d, faults %s, verdict %s, run %v, check %v, errors %s",
		t.Name(), r.Histories, r.Stats.Total(), r.Stats.OK, r.Stats.Failed, r.Stats.Unknown, r.Checked, history.FaultCounts(r.Injected),
		r.Verdict, r.Ran.Round(time.Millisecond), r.CheckTime.Round(time.Millisecond), history.ErrorCodes(r.Rec))
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if r.Injected[c.fault] == 0 {
		t.Fatalf("no %s fault took effect: the run proves nothing", c.fault)
	}
	if r.Stats.OK == 0 || r.Checked == 0 {
		t.Fatalf("%d operations acknowledged, %d checked: the run proves nothing", r.Stats.OK, r.Checked)
	}
	if c.fault == history.RestartWipe && r.Histories < 2 {
		t.Fatalf("%d restarts without persistence but %d histories: the reset points were not recorded", r.Injected[c.fault], r.Histories)
	}
	return r
}

func runCell(t *testing.T, c cell) {
	t.Parallel()
	r := runRound(t, c)
	m, isModel := history.CellModel(c.cell)
	res := history.Result{Verdict: r.Verdict, Report: r.Report}
	if r.Verdict == porcupine.Illegal && isModel {
		// Issue 22 ("one meaning per code"): on a single node a reply lost after the write is
		// reported as STORE_CONNECTION_FAILED, which this checker reads as "certainly not applied".
		// When reading that one code as "maybe applied" makes the history linearizable, the
		// anomaly is exactly that known defect; anything else fails the test.
		hs, _ := r.Rec.Histories(history.ConnectionFailedMaybeApplied)
		alt := history.CheckEpochs(t.Name(), m, hs, 30*time.Second)
		if alt.Verdict == porcupine.Ok {
			t.Logf("checker report:\n%s", r.Report)
			t.Logf("the operations left out as certainly not applied (STORE_CONNECTION_FAILED), one of which was:\n%s",
				describeRecords(r.Rec, m, ops.CodeConnectionFailed))
			t.Skip("known: issue 22 (one meaning per code): on a single node a write whose reply was lost " +
				"after it was sent fails with STORE_CONNECTION_FAILED, not STORE_OUTCOME_UNKNOWN; the history " +
				"above is linearizable only when that code is read as maybe-applied")
		}
	}
	assertVerdict(t, res, true)
}

// describeRecords prints the records that failed with code, as the model describes them.
func describeRecords(rec *history.Recorder, m porcupine.Model, code ops.Code) string {
	var b strings.Builder
	for _, r := range rec.Records() {
		if ops.HasCode(r.Err, code) {
			fmt.Fprintf(&b, "    #%d client %d [%v, %v] %s: %v\n", r.ID, r.Client, time.Duration(r.Call), time.Duration(r.Return),
				strings.TrimSuffix(m.DescribeOperation(r.Input, nil), " -> ? (maybe applied)"), r.Err)
		}
	}
	return b.String()
}
