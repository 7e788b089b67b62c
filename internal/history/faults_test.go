package history_test

import (
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/igniter-go/store/internal/history"
)

// A frozen server (SIGSTOP for 100–600ms, then SIGCONT) answers nothing, then runs what it was
// sent after the callers gave up: their operations time out, outcome unknown. The full models
// must hold.
func TestHistoryKVRegisterFrozenServer(t *testing.T) { runCell(t, kvCell(history.Freeze)) }
func TestHistoryCounterFrozenServer(t *testing.T)    { runCell(t, counterCell(history.Freeze)) }
func TestHistoryLeaseFrozenServer(t *testing.T)      { runCell(t, leaseCell(history.Freeze)) }

// A restart without persistence loses every write, acknowledged or not: Redis's documented
// behaviour, so the full model cannot hold across it. Each restart is a reset point instead, and
// every epoch between restarts must be linearizable from the empty state (Recorder.Histories):
// a counter starts again from 0 and then never skips nor repeats an add within the epoch, a
// register reads only values written in its epoch, fences increase within an epoch (they start
// again after the wipe: the documented limit). runRound fails the cell when no reset split the
// history.
func TestHistoryKVRegisterRestartWithoutPersistence(t *testing.T) {
	runCell(t, kvCell(history.RestartWipe))
}
func TestHistoryCounterRestartWithoutPersistence(t *testing.T) {
	runCell(t, counterCell(history.RestartWipe))
}
func TestHistoryLeaseRestartWithoutPersistence(t *testing.T) {
	runCell(t, leaseCell(history.RestartWipe))
}

// The reset point is what lets a counter start again from 0: without the reset the same history
// is not linearizable, with it each epoch is. An add in flight across the reset may have been
// applied in either epoch.
func TestHistoryEpochsResetPoint(t *testing.T) {
	build := func(reset bool) *history.Recorder {
		rec := history.NewRecorder()
		add := func(delta, value int64) {
			p := rec.Call(0, history.CounterInput{Key: "n", Delta: delta})
			p.Return(history.CounterOutput{Value: value}, nil)
		}
		add(1, 1)
		add(2, 3)
		straddling := rec.Call(1, history.CounterInput{Key: "n", Delta: 5}) // applied after the restart
		from := time.Now()
		to := time.Now()
		if reset {
			rec.Reset(from, to)
		}
		straddling.Return(history.CounterOutput{Value: 5}, nil)
		add(1, 6)
		return rec
	}
	for _, tc := range []struct {
		reset     bool
		epochs    int
		verdict   porcupine.CheckResult
		offending string
	}{
		{false, 1, porcupine.Illegal, "add(\"n\", 5) -> 5"},
		{true, 2, porcupine.Ok, ""},
	} {
		hs, _ := build(tc.reset).Histories(nil)
		res := history.CheckEpochs("reset", history.CounterModel, hs, time.Second)
		t.Logf("reset %v: %d epochs, verdict %s\n%s", tc.reset, len(hs), res.Verdict, res.Report)
		if len(hs) != tc.epochs || res.Verdict != tc.verdict || !strings.Contains(res.Report, tc.offending) {
			t.Errorf("reset %v: %d epochs, verdict %s, want %d, %s naming %q", tc.reset, len(hs), res.Verdict, tc.epochs, tc.verdict, tc.offending)
		}
	}
	// The epoch check is not blind: a value that survives the wipe is an anomaly.
	rec := history.NewRecorder()
	rec.Call(0, history.CounterInput{Key: "n", Delta: 2}).Return(history.CounterOutput{Value: 2}, nil)
	rec.Reset(time.Now(), time.Now())
	rec.Call(0, history.CounterInput{Key: "n", Delta: 1}).Return(history.CounterOutput{Value: 3}, nil)
	hs, _ := rec.Histories(nil)
	if res := history.CheckEpochs("survivor", history.CounterModel, hs, time.Second); res.Verdict != porcupine.Illegal ||
		!strings.Contains(res.Report, "epoch 2 of 2") {
		t.Errorf("a count that survived the wipe: verdict %s\n%s", res.Verdict, res.Report)
	}
}

// A lease acquired by a call that straddles a restart without persistence keeps its fence: the
// holder's release names it in the next epoch, and the model must accept it (the acquisition
// may have happened in either epoch). A release naming a fence no acquisition returned is
// still caught.
func TestHistoryEpochsLeaseAcrossReset(t *testing.T) {
	const ttl = time.Minute
	for _, tc := range []struct {
		name         string
		releaseFence int64
		verdict      porcupine.CheckResult
	}{
		{"its own fence", 7, porcupine.Ok},
		{"a fence never handed out", 8, porcupine.Illegal},
	} {
		rec := history.NewRecorder()
		acq := rec.Call(1, history.LeaseInput{Op: history.LeaseAcquire, Key: "job", Client: 1, TTL: ttl})
		rec.Reset(time.Now(), time.Now())
		acq.Return(history.LeaseOutput{Ok: true, Fence: 7}, nil)
		rec.Call(1, history.LeaseInput{Op: history.LeaseRelease, Key: "job", Client: 1, TTL: ttl, Fence: tc.releaseFence}).
			Return(history.LeaseOutput{Ok: true}, nil)
		hs, _ := rec.Histories(nil)
		res := history.CheckEpochs("lease", history.LeaseModel, hs, time.Second)
		t.Logf("%s: %d epochs, verdict %s\n%s", tc.name, len(hs), res.Verdict, res.Report)
		if len(hs) != 2 || res.Verdict != tc.verdict {
			t.Errorf("%s: %d epochs, verdict %s, want 2, %s", tc.name, len(hs), res.Verdict, tc.verdict)
		}
	}
}
