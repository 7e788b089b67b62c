package history

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// window is a span of the recorder's clock, in nanoseconds since it started.
type window struct{ from, to int64 }

// Reset records that between from and to the server lost all its data: it was killed at from at
// the earliest and answered again, empty, by to (a restart without persistence). Redis loses
// acknowledged writes there by design, so no model can hold across it; [Recorder.Histories]
// checks each epoch between resets on its own instead.
func (r *Recorder) Reset(from, to time.Time) { r.addWindow(&r.resets, from, to) }

// resetWindows returns a copy of the reset windows.
func (r *Recorder) resetWindows() []window { return r.windows(&r.resets) }

// addWindow appends the span from–to, on the recorder's clock, to *ws.
func (r *Recorder) addWindow(ws *[]window, from, to time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	*ws = append(*ws, window{int64(from.Sub(r.start)), int64(to.Sub(r.start))})
}

// windows returns a copy of *ws.
func (r *Recorder) windows(ws *[]window) []window {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]window(nil), *ws...)
}

// Histories is [Recorder.History] for a run with resets: it returns one history per epoch, the
// spans between resets, each to be checked on its own from the model's initial state. This is
// the weaker property a restart without persistence leaves: every epoch is linearizable from
// the empty state; nothing is promised across a reset (acknowledged writes before it are lost).
//
//   - An operation that called and returned within one epoch is in that epoch's history as
//     [Recorder.History] puts it.
//   - An operation that straddles a reset (called before it, returned after it began), whatever
//     its outcome, may have taken effect in any epoch it overlaps — a write that came back OK
//     from the old process, or one re-sent and applied by the new: it is an operation of unknown
//     outcome in each (a read is left out); an OK one whose input is [Uncertain] keeps its
//     output instead, as "maybe happened, and if so returned this". An operation of unknown outcome is in every epoch
//     that ends after its call, since it may run any time after its call.
//   - In each later epoch such an operation's call time is the epoch's start.
//
// Without resets it returns the one history of [Recorder.History].
func (r *Recorder) Histories(classify func(error) Outcome) ([][]porcupine.Operation, Stats) {
	return r.histories(r.resetWindows(), classify)
}

// histories splits the records at resets; with none it is the one history of [Recorder.History].
func (r *Recorder) histories(resets []window, classify func(error) Outcome) ([][]porcupine.Operation, Stats) {
	if classify == nil {
		classify = Classify
	}
	epochs := make([]window, 0, len(resets)+1)
	from := int64(0)
	for _, w := range resets {
		epochs = append(epochs, window{from, w.from})
		from = w.to
	}
	epochs = append(epochs, window{from, math.MaxInt64})
	recs := r.Records()
	var end int64
	for _, rec := range recs {
		end = max(end, rec.Call, rec.Return)
	}
	for _, w := range resets {
		end = max(end, w.to) // an epoch's clamped calls come before every return
	}
	end++
	lossy := r.lossWindows()
	var st Stats
	hs := make([][]porcupine.Operation, len(epochs))
	for _, rec := range recs {
		outcome := rec.outcome(classify)
		st.count(outcome)
		if outcome == Failed {
			continue
		}
		readOnly := false
		if ro, ok := rec.Input.(ReadOnly); ok {
			readOnly = ro.ReadOnly()
		}
		excused := inWindows(lossy, rec)
		if excused && outcome == OK {
			st.Excused++
		}
		if excused && readOnly {
			continue // it may have seen a write that was then lost
		}
		for i, e := range epochs {
			if outcome == OK && !excused && rec.Call >= e.from && rec.Return <= e.to {
				hs[i] = append(hs[i], operation(rec, rec.Call, rec.Output, rec.Return))
				break
			}
			ret := rec.Return
			if outcome != OK {
				ret = math.MaxInt64 // it may run any time after its call
			}
			if readOnly || rec.Call >= e.to || ret <= e.from {
				continue // a read of unknown outcome constrains nothing; or no overlap
			}
			if u, ok := rec.Input.(Uncertain); ok && outcome == OK {
				// Its output is known, only its epoch is not: it may have happened here, with
				// that output, or not at all.
				r := rec
				r.Input = u.Uncertain()
				hs[i] = append(hs[i], operation(r, max(rec.Call, e.from), rec.Output, max(rec.Return, max(rec.Call, e.from)+1)))
				continue
			}
			hs[i] = append(hs[i], operation(rec, max(rec.Call, e.from), nil, end))
		}
	}
	return hs, st
}

// MayLose records that Redis may have lost writes it acknowledged between from and to: a
// failover with asynchronous replication, from the last point where everything acknowledged was
// known to be on the replica that took over, until that replica served and the old primary
// could acknowledge no more. [Recorder.History] and [Recorder.Histories] then check the weaker
// property such a failover leaves: a write that overlapped the window (called before to,
// returned after from, or still in flight) may have taken effect or not, whatever it returned
// (an OK one whose input is [Uncertain], as the KV, counter and lease inputs are, as "maybe
// happened, within its call and return, and if so returned this"; any other as of unknown
// outcome), and a read that overlapped it is left out (it may have seen a write that was then
// lost). Every other operation is checked in full: a write acknowledged outside every window is
// never lost, and a read outside them sees the state.
func (r *Recorder) MayLose(from, to time.Time) { r.addWindow(&r.lossy, from, to) }

// lossWindows returns a copy of the loss windows.
func (r *Recorder) lossWindows() []window { return r.windows(&r.lossy) }

// inWindows reports whether rec overlapped one of ws (an operation in flight overlaps every
// window after its call).
func inWindows(ws []window, rec Record) bool {
	ret := rec.Return
	if ret < 0 {
		ret = math.MaxInt64
	}
	for _, w := range ws {
		if rec.Call < w.to && ret > w.from {
			return true
		}
	}
	return false
}

// Uncertain is implemented by inputs whose model can take an operation that may or may not
// have happened but, if it did, returned its recorded output (a lease acquisition's fence, which
// a later release names). [Recorder.Histories] uses it for an OK operation that straddles a
// reset, instead of dropping its output.
type Uncertain interface{ Uncertain() any }

// operation is a record as a porcupine operation with the given call, output and return.
func operation(rec Record, call int64, output any, ret int64) porcupine.Operation {
	op := porcupine.Operation{ClientId: rec.Client, Input: rec.Input, Call: call, Output: output, Return: ret, Metadata: rec.ID}
	if tm, ok := op.Input.(Timed); ok {
		op.Input = tm.WithTimes(op.Call, op.Return)
	}
	return op
}

// CheckEpochs runs [Check] on each history of [Recorder.Histories] and combines the verdicts:
// Illegal when one is, else Unknown when one timed out, else Ok. Reports name the epoch when
// there is more than one.
func CheckEpochs(name string, m porcupine.Model, histories [][]porcupine.Operation, timeout time.Duration) Result {
	if len(histories) == 1 {
		return Check(name, m, histories[0], timeout)
	}
	all := Result{Verdict: porcupine.Ok}
	var report strings.Builder
	for i, h := range histories {
		res := Check(fmt.Sprintf("%s, epoch %d of %d", name, i+1, len(histories)), m, h, timeout)
		all.Operations += res.Operations
		all.Partitions += res.Partitions
		all.Elapsed += res.Elapsed
		report.WriteString(res.Report)
		switch {
		case res.Verdict == porcupine.Illegal:
			all.Verdict = porcupine.Illegal
		case res.Verdict == porcupine.Unknown && all.Verdict == porcupine.Ok:
			all.Verdict = porcupine.Unknown
		}
	}
	all.Report = report.String()
	return all
}
