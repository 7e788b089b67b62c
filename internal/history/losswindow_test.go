package history_test

import (
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/igniter-go/store/internal/history"
)

// The failover cells' weaker property, on small histories: an acknowledged write lost inside a
// recorded loss window (Recorder.MayLose) is legal, one lost outside every window is an anomaly
// named in the report; a read inside the window that saw a write later lost is left out; a
// write acknowledged in the window that survived keeps its value (the model takes it as "maybe
// happened, and then returned this").
func TestHistoryLossWindow(t *testing.T) {
	add := func(rec *history.Recorder, client int, delta, value int64) {
		rec.Call(client, history.CounterInput{Key: "n", Delta: delta}).Return(history.CounterOutput{Value: value}, nil)
	}
	set := func(rec *history.Recorder, value string) {
		rec.Call(0, history.KVInput{Op: history.KVSet, Key: "k", Value: value}).Return(history.KVOutput{}, nil)
	}
	get := func(rec *history.Recorder, value string, found bool) {
		rec.Call(1, history.KVInput{Op: history.KVGet, Key: "k"}).Return(history.KVOutput{Value: value, Found: found}, nil)
	}
	for _, tc := range []struct {
		name  string
		model porcupine.Model
		build func(rec *history.Recorder, window func(func()))
		// the verdicts with the window recorded and without it
		with, without porcupine.CheckResult
		offending     string // named by the report with the window recorded, when Illegal
	}{
		{"CounterLostInTheWindow", history.CounterModel, func(rec *history.Recorder, window func(func())) {
			add(rec, 0, 2, 2)
			window(func() { add(rec, 1, 3, 5) }) // acknowledged, then lost with the old primary
			add(rec, 0, 1, 3)
		}, porcupine.Ok, porcupine.Illegal, ""},
		{"CounterLostBeforeTheWindow", history.CounterModel, func(rec *history.Recorder, window func(func())) {
			add(rec, 0, 2, 2) // acknowledged before the sync point: must survive
			window(func() {})
			add(rec, 0, 1, 1)
		}, porcupine.Illegal, porcupine.Illegal, `add("n", 1) -> 1`},
		{"CounterKeptInTheWindow", history.CounterModel, func(rec *history.Recorder, window func(func())) {
			add(rec, 0, 2, 2)
			window(func() { add(rec, 1, 3, 5) }) // acknowledged and kept
			add(rec, 0, 1, 6)
		}, porcupine.Ok, porcupine.Ok, ""},
		{"CounterWrongValueInTheWindow", history.CounterModel, func(rec *history.Recorder, window func(func())) {
			add(rec, 0, 2, 2)
			window(func() { add(rec, 1, 3, 9) }) // if it happened it returned 5: 9 is no history's
			add(rec, 0, 1, 12)
		}, porcupine.Illegal, porcupine.Illegal, `add("n", 1) -> 12`},
		{"KVLostInTheWindow", history.KVModel, func(rec *history.Recorder, window func(func())) {
			set(rec, "v1")
			window(func() {
				set(rec, "v2")
				get(rec, "v2", true) // read from the old primary, then lost with it
			})
			get(rec, "v1", true)
		}, porcupine.Ok, porcupine.Illegal, ""},
		{"KVLostBeforeTheWindow", history.KVModel, func(rec *history.Recorder, window func(func())) {
			set(rec, "v1")
			set(rec, "v2")
			window(func() {})
			get(rec, "v1", true)
		}, porcupine.Illegal, porcupine.Illegal, `get("k") -> "v1"`},
	} {
		for _, recorded := range []bool{true, false} {
			rec := history.NewRecorder()
			tc.build(rec, func(in func()) {
				from := time.Now()
				in()
				if recorded {
					rec.MayLose(from, time.Now())
				}
			})
			h, st := rec.History(nil)
			res := history.Check(tc.name, tc.model, h, time.Second)
			t.Logf("%s (window recorded %v): %d operations, %d in the window, verdict %s\n%s", tc.name, recorded, st.Total(), st.Excused, res.Verdict, res.Report)
			want := tc.without
			if recorded {
				want = tc.with
			}
			if res.Verdict != want {
				t.Errorf("%s (window recorded %v): verdict %s, want %s", tc.name, recorded, res.Verdict, want)
			}
			if want == porcupine.Illegal && recorded && !strings.Contains(res.Report, tc.offending) {
				t.Errorf("%s: the report does not name %s", tc.name, tc.offending)
			}
		}
	}
}
