package report

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/igniter-go/store/loadtest/internal/hist"
)

// Report is one run's results and settings.
type Report struct {
	Scenario    string        `json:"scenario"`
	Description string        `json:"description"`
	Target      string        `json:"target"`
	Loop        string        `json:"loop"`
	Started     time.Time     `json:"started"`
	Elapsed     time.Duration `json:"elapsed"` // measured time, ns
	// Partial is true when the run was interrupted (a signal) before its end; Reason says why.
	Partial  bool      `json:"partial"`
	Reason   string    `json:"partialReason,omitempty"`
	Settings []Setting `json:"settings"`
	// Ops are the per-operation numbers; All merges the workers' operations (deliveries and
	// consumptions of the events and streams scenarios are listed in Ops, not merged in All).
	Ops    []hist.Summary `json:"ops"`
	All    hist.Summary   `json:"all"`
	Series []hist.Second  `json:"series"`
	// CPUPerOp is the harness process's CPU time (user + system, getrusage) per measured
	// operation; with an embedded Redis it includes the server's.
	CPUPerOp time.Duration `json:"clientCpuPerOp"`
	CPUNote  string        `json:"clientCpuNote,omitempty"`
	// Late counts open-loop calls that started more than 1 ms after their schedule.
	Late  int64    `json:"lateStarts,omitempty"`
	Notes []string `json:"notes,omitempty"`
	// Compare holds -compare's variants, plain go-redis first.
	Compare []Variant `json:"compare,omitempty"`
}

// Setting is one named setting of the run.
type Setting struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Variant is one side of a -compare run.
type Variant struct {
	Name     string         `json:"name"`
	Elapsed  time.Duration  `json:"elapsed"`
	Ops      []hist.Summary `json:"ops"`
	All      hist.Summary   `json:"all"`
	CPUPerOp time.Duration  `json:"clientCpuPerOp"`
}

// Dur formats a latency for people: µs below 1 ms, ms below 1 s.
func Dur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.1fµs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	}
	return d.Round(time.Millisecond).String()
}

// Text writes the report as the terminal shows it.
func Text(w io.Writer, r *Report) {
	if r.Partial {
		fmt.Fprintf(w, "\nPARTIAL REPORT: %s after %s measured\n", r.Reason, r.Elapsed.Round(time.Millisecond))
	}
	if len(r.Compare) > 0 {
		compareText(w, r)
	} else {
		fmt.Fprintln(w)
		table(w, r.Ops, r.All, r.Loop)
	}
	if r.CPUPerOp > 0 {
		fmt.Fprintf(w, "client CPU: %s per op%s\n", Dur(r.CPUPerOp), note(r.CPUNote))
	}
	if r.Late > 0 {
		fmt.Fprintf(w, "open loop: %d calls started >1 ms behind schedule (workers all busy or the machine stalled; their wait is in the latency)\n", r.Late)
	}
	for _, n := range r.Notes {
		fmt.Fprintln(w, n)
	}
}

func note(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

func table(w io.Writer, ops []hist.Summary, all hist.Summary, loop string) {
	width := 10
	for _, s := range ops {
		width = max(width, len(s.Op))
	}
	fmt.Fprintf(w, "%-*s %10s %10s %9s %9s %9s %9s %9s %8s\n", width, "op", "count", "ops/s", "p50", "p90", "p99", "p99.9", "max", "errors")
	row := func(s hist.Summary) {
		fmt.Fprintf(w, "%-*s %10d %10.0f %9s %9s %9s %9s %9s %8d\n", width, s.Op, s.Count, s.Rate,
			Dur(s.P50), Dur(s.P90), Dur(s.P99), Dur(s.P999), Dur(s.Max), s.ErrorCount())
	}
	for _, s := range ops {
		row(s)
		for _, c := range sortedCodes(s.Errors) {
			fmt.Fprintf(w, "%-*s   error %s: %d\n", width, "", c, s.Errors[c])
		}
	}
	if len(ops) > 1 {
		row(all)
	}
	open := false
	for _, s := range ops {
		if s.Service != nil {
			open = true
		}
	}
	if open {
		fmt.Fprintf(w, "%s: a call held up by earlier ones counts its latency from its scheduled start (coordinated omission corrected); service time counts from its actual start:\n", loop)
		for _, s := range ops {
			if s.Service != nil {
				fmt.Fprintf(w, "%-*s   service time p50 %s, p99 %s, max %s\n", width, s.Op, Dur(s.Service.P50), Dur(s.Service.P99), Dur(s.Service.Max))
			}
		}
	}
}

func compareText(w io.Writer, r *Report) {
	for _, v := range r.Compare {
		fmt.Fprintf(w, "\n%s (%s measured, interleaved):\n", v.Name, v.Elapsed.Round(time.Millisecond))
		table(w, v.Ops, v.All, r.Loop)
	}
	if len(r.Compare) != 2 {
		return
	}
	a, b := r.Compare[0], r.Compare[1]
	fmt.Fprintf(w, "\n%-14s %12s %10s %10s %14s\n", "", "ops/s", "p50", "p99", "client CPU/op")
	for _, v := range r.Compare {
		fmt.Fprintf(w, "%-14s %12.0f %10s %10s %14s\n", v.Name, v.All.Rate, Dur(v.All.P50), Dur(v.All.P99), Dur(v.CPUPerOp))
	}
	ratio := func(x, y float64) string {
		if y == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f×", x/y)
	}
	fmt.Fprintf(w, "%-14s %12s %10s %10s %14s\n", b.Name+"/"+a.Name, ratio(b.All.Rate, a.All.Rate),
		ratio(float64(b.All.P50), float64(a.All.P50)), ratio(float64(b.All.P99), float64(a.All.P99)),
		ratio(float64(b.CPUPerOp), float64(a.CPUPerOp)))
}

func sortedCodes(m map[string]int64) []string { return slices.Sorted(maps.Keys(m)) }

// JSON writes the report as indented JSON (durations in nanoseconds).
func JSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
