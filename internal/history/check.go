package history

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// VizDirEnv names a directory where [Check] writes porcupine's HTML visualization of every
// history it finds not linearizable.
const VizDirEnv = "HISTORY_VIZ_DIR"

// Result is the verdict on one history.
type Result struct {
	// Verdict is porcupine's: Ok, Illegal, or Unknown when the check timed out.
	Verdict porcupine.CheckResult
	// Operations is the number of operations checked; Partitions the number of partitions.
	Operations, Partitions int
	// Report prints the offending operations of every partition that is not linearizable.
	Report string
	// Elapsed is how long the check took.
	Elapsed time.Duration
}

// Check verifies that history is linearizable under m, each of m's partitions on its own with
// the given timeout (0: none). name labels the report and the visualization file.
func Check(name string, m porcupine.Model, history []porcupine.Operation, timeout time.Duration) Result {
	began := time.Now()
	parts := [][]porcupine.Operation{history}
	if m.Partition != nil {
		parts = m.Partition(history)
	}
	whole := m
	whole.Partition, whole.PartitionEvent = nil, nil
	res := Result{Verdict: porcupine.Ok, Operations: len(history), Partitions: len(parts)}
	var report strings.Builder
	for i, part := range parts {
		switch porcupine.CheckOperationsTimeout(whole, part, timeout) {
		case porcupine.Ok:
			continue
		case porcupine.Unknown:
			if res.Verdict == porcupine.Ok {
				res.Verdict = porcupine.Unknown
			}
			fmt.Fprintf(&report, "%s, partition %d: inconclusive, the check timed out after %v (%d operations)\n", name, i, timeout, len(part))
			continue
		}
		res.Verdict = porcupine.Illegal
		_, info := porcupine.CheckOperationsVerbose(whole, part, 0)
		report.WriteString(explain(name, whole, part, info))
		if dir := os.Getenv(VizDirEnv); dir != "" {
			path := filepath.Join(dir, fileName(name)+fmt.Sprintf("-%d.html", i))
			if err := porcupine.VisualizePath(whole, info, path); err == nil {
				fmt.Fprintf(&report, "  visualization: %s\n", path)
			}
		}
	}
	res.Report = report.String()
	res.Elapsed = time.Since(began)
	return res
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func fileName(name string) string { return unsafeName.ReplaceAllString(name, "_") }

// How many operations an explanation prints around the one that cannot be placed.
const (
	contextOps    = 6
	concurrentOps = 12
)

// explain prints why one partition is not linearizable: the end of the longest linearizable
// prefix porcupine found, with the model state after each operation, then the earliest-returning
// operation left out (no linearization of the prefix can take it next) and the operations
// concurrent with it.
func explain(name string, m porcupine.Model, part []porcupine.Operation, info porcupine.LinearizationInfo) string {
	var longest []porcupine.Operation
	for _, p := range info.PartialLinearizationsOperations() {
		for _, lin := range p {
			if len(lin) > len(longest) {
				longest = lin
			}
		}
	}
	var b strings.Builder
	if k, ok := part[0].Input.(keyed); ok {
		name += fmt.Sprintf(", key %q", k.key())
	}
	fmt.Fprintf(&b, "%s: NOT LINEARIZABLE: no legal order of more than %d of its %d operations (each op: #record client [call, return])\n",
		name, len(longest), len(part))
	states := make([]any, len(longest))
	state := m.Init()
	for i, op := range longest {
		_, state = m.Step(state, op.Input, op.Output)
		states[i] = state
	}
	placed := map[any]bool{}
	for _, op := range longest {
		placed[op.Metadata] = true
	}
	fmt.Fprintf(&b, "  the longest linearizable prefix ends with (state after each):\n")
	for i := max(0, len(longest)-contextOps); i < len(longest); i++ {
		fmt.Fprintf(&b, "    %s   => %s\n", describe(m, longest[i]), m.DescribeState(states[i]))
	}
	if len(longest) == 0 {
		fmt.Fprintf(&b, "    (empty) state %s\n", m.DescribeState(state))
	}
	var left []porcupine.Operation
	for _, op := range part {
		if !placed[op.Metadata] {
			left = append(left, op)
		}
	}
	slices.SortFunc(left, func(a, c porcupine.Operation) int { return cmp.Compare(a.Return, c.Return) })
	if len(left) == 0 {
		return b.String()
	}
	stuck := left[0]
	fmt.Fprintf(&b, "  cannot be placed next (state %s):\n    %s\n", m.DescribeState(state), describe(m, stuck))
	fmt.Fprintf(&b, "  concurrent with it:\n")
	n := 0
	for _, op := range part {
		if op.Metadata == stuck.Metadata || op.Call > stuck.Return || op.Return < stuck.Call {
			continue
		}
		if n++; n > concurrentOps {
			fmt.Fprintf(&b, "    …\n")
			break
		}
		fmt.Fprintf(&b, "    %s\n", describe(m, op))
	}
	if n == 0 {
		fmt.Fprintf(&b, "    (none)\n")
	}
	return b.String()
}

// describe prints one operation: its record ID, client, interval and what it did.
func describe(m porcupine.Model, op porcupine.Operation) string {
	ret := "∞ (outcome unknown)"
	if op.Output != nil {
		ret = fmtTime(op.Return)
	}
	return fmt.Sprintf("#%v client %d [%s, %s] %s", op.Metadata, op.ClientId, fmtTime(op.Call), ret, m.DescribeOperation(op.Input, op.Output))
}

func fmtTime(ns int64) string { return time.Duration(ns).String() }
