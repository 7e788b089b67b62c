package report

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/igniter-go/store/loadtest/internal/hist"
)

// FormatVersion is the version of the JSON report's format (its "format" field), described by
// loadtest/report.schema.json. Version 2 named every unit (p50Ns, atSeconds) and keeps every
// field present.
const FormatVersion = 2

// Report is one run's results and settings. Its JSON (see [JSON]) has every field present, zero
// values included; durations are integer nanoseconds in fields ending in Ns, times since the
// start of measuring are float seconds in fields ending in Seconds.
type Report struct {
	Scenario    string `json:"scenario"`
	Description string `json:"description"`
	// Target is the Redis the run measured; Machine the one it ran on. Both are in the banner.
	Target  Target        `json:"target"`
	Machine Machine       `json:"machine"`
	Loop    string        `json:"loop"`
	Started time.Time     `json:"started"`
	Elapsed time.Duration `json:"elapsedNs"` // measured time
	// Partial is true when the run was interrupted (a signal) before its end; Reason says why.
	Partial  bool      `json:"partial"`
	Reason   string    `json:"partialReason"`
	Settings []Setting `json:"settings"`
	// Ops are the per-operation numbers; All merges the workers' operations (deliveries and
	// consumptions of the events and streams scenarios are listed in Ops, not merged in All).
	Ops []hist.Summary `json:"ops"`
	All hist.Summary   `json:"all"`
	// Background names the operations in Ops that the scenario's own loops record
	// (deliveries, consumptions): not the workers' calls, so not merged into All.
	Background []string      `json:"backgroundOps"`
	Series     []hist.Second `json:"series"`
	// CPUPerOp is the harness process's CPU time (user + system, getrusage) per measured
	// operation; with an embedded Redis it includes the server's.
	CPUPerOp time.Duration `json:"clientCpuPerOpNs"`
	CPUNote  string        `json:"clientCpuNote"`
	// Late counts open-loop calls that started more than 1 ms after their schedule.
	Late  int64    `json:"lateStarts"`
	Notes []string `json:"notes"`
	// Compare holds -compare's variants, plain go-redis first.
	Compare []Variant `json:"compare"`
}

// Setting is one named setting of the run.
type Setting struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Variant is one side of a -compare run.
type Variant struct {
	Name     string         `json:"name"`
	Elapsed  time.Duration  `json:"elapsedNs"`
	Ops      []hist.Summary `json:"ops"`
	All      hist.Summary   `json:"all"`
	CPUPerOp time.Duration  `json:"clientCpuPerOpNs"`
}

// Dur formats a latency for people, in every report (text, HTML tables, captions and axis
// ticks) the same way: three significant digits, the histograms' precision, in ns below 1 µs,
// µs below 1 ms, ms below 1 s, else s (512µs, 1.50ms, 12.3ms, 123ms, 8.00s). It rounds half up
// in integers, as the HTML page's script does, so both print the same text for a value.
func Dur(d time.Duration) string {
	if d < time.Microsecond {
		return strconv.FormatInt(int64(max(d, 0)), 10) + "ns"
	}
	units := []struct {
		name string
		size int64
	}{{"µs", int64(time.Microsecond)}, {"ms", int64(time.Millisecond)}, {"s", int64(time.Second)}}
	ns := new(big.Int).SetInt64(int64(d))
	for i, u := range units {
		for _, digits := range []int{2, 1, 0} {
			// q = round(ns·10^digits / size), half up: ⌊(2·ns·10^digits + size) / (2·size)⌋.
			scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(digits)), nil)
			q := new(big.Int).Mul(ns, scale)
			q.Mul(q, big.NewInt(2)).Add(q, big.NewInt(u.size))
			q.Quo(q, big.NewInt(2*u.size))
			if q.Cmp(big.NewInt(1000)) < 0 || (digits == 0 && i == len(units)-1) {
				return fixed(q.String(), digits) + u.name
			}
		}
	}
	panic("unreachable")
}

// fixed prints the decimal integer q divided by 10^digits, with that many decimals.
func fixed(q string, digits int) string {
	if digits == 0 {
		return q
	}
	q = strings.Repeat("0", max(digits+1-len(q), 0)) + q
	return q[:len(q)-digits] + "." + q[len(q)-digits:]
}

// Text writes the report as the terminal shows it. Its first line is [Banner].
func Text(w io.Writer, r *Report) {
	fmt.Fprintln(w, Banner(r))
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

// JSON writes the report as indented JSON, in the format loadtest/report.schema.json describes:
// every field present (empty lists and maps rather than null), the banner and format version
// added, durations in integer nanoseconds.
func JSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(document(r))
}

// doc is the JSON document of a report: its format version and banner, then the report.
type doc struct {
	Format int    `json:"format"`
	Banner string `json:"banner"`
	*Report
}

// document returns r's JSON document, on a copy of r whose nil lists and maps are empty.
func document(r *Report) doc {
	c := *r
	c.Settings = nonNil(c.Settings)
	c.Ops = summaries(c.Ops)
	c.All = summary(c.All)
	c.Background = nonNil(c.Background)
	c.Series = nonNil(c.Series)
	for i, s := range c.Series {
		if s.Ops == nil {
			c.Series = slices.Clone(c.Series)
			c.Series[i].Ops = map[string]hist.OpSecond{}
		}
	}
	c.Notes = nonNil(c.Notes)
	c.Compare = slices.Clone(nonNil(c.Compare))
	for i := range c.Compare {
		c.Compare[i].Ops = summaries(c.Compare[i].Ops)
		c.Compare[i].All = summary(c.Compare[i].All)
	}
	c.Target.Addresses = nonNil(c.Target.Addresses)
	return doc{Format: FormatVersion, Banner: Banner(r), Report: &c}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func summaries(ss []hist.Summary) []hist.Summary {
	out := make([]hist.Summary, len(ss))
	for i, s := range ss {
		out[i] = summary(s)
	}
	return out
}

// summary is s with empty (not nil) errors and spectrum, its service time likewise.
func summary(s hist.Summary) hist.Summary {
	if s.Errors == nil {
		s.Errors = map[string]int64{}
	}
	s.Spectrum = nonNil(s.Spectrum)
	if s.Service != nil {
		svc := summary(*s.Service)
		s.Service = &svc
	}
	return s
}
