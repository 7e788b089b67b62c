package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/igniter-go/store/internal/history"
)

// checkSummary is what a -scenario check run found.
type checkSummary struct {
	seed    uint64
	cfg     config
	rounds  int
	hists   int // histories checked: one per round, one more per restart without persistence
	stats   history.Stats
	checked int
	faults  map[history.Fault]int
	// anomalies are rounds whose history broke the model; inconclusive ones timed out.
	anomalies, inconclusive int
	cells                   map[string]*cellTally
	elapsed                 time.Duration
	partial                 bool
}

// cellTally is one model's share of the run.
type cellTally struct {
	rounds, ops, checked, anomalies int
	faults                          int
}

func (s *checkSummary) add(r history.Round) {
	s.rounds++
	s.hists += r.Histories
	s.stats.OK += r.Stats.OK
	s.stats.Failed += r.Stats.Failed
	s.stats.Unknown += r.Stats.Unknown
	s.stats.Excused += r.Stats.Excused
	s.checked += r.Checked
	t := s.cells[r.Cell]
	if t == nil {
		t = &cellTally{}
		s.cells[r.Cell] = t
	}
	t.rounds++
	t.ops += r.Stats.Total()
	t.checked += r.Checked
	for k, v := range r.Injected {
		s.faults[k] += v
		t.faults += v
	}
	switch r.Verdict {
	case porcupine.Illegal:
		s.anomalies++
		t.anomalies++
	case porcupine.Unknown:
		s.inconclusive++
	}
}

// roundLine is one round's line of the run's log.
func roundLine(i int, r history.Round) string {
	verdict := "ok"
	switch r.Verdict {
	case porcupine.Illegal:
		verdict = "ANOMALY"
	case porcupine.Unknown:
		verdict = "inconclusive (check timed out)"
	}
	excused := ""
	if r.Stats.Excused > 0 {
		excused = fmt.Sprintf(", %d in a loss window", r.Stats.Excused)
	}
	return fmt.Sprintf("round %d %s (seed %d): %d ops (ok %d, failed %d, unknown %d%s), %d checked in %d history(ies), faults %s: %s (check %v)",
		i, r.Cell, r.Seed, r.Stats.Total(), r.Stats.OK, r.Stats.Failed, r.Stats.Unknown, excused, r.Checked, r.Histories,
		history.FaultCounts(r.Injected), verdict, r.CheckTime.Round(time.Millisecond))
}

// print writes the summary.
func (s *checkSummary) print(out io.Writer) {
	partial := ""
	if s.partial {
		partial = " (partial: interrupted)"
	}
	fmt.Fprintf(out, "\ncheck summary%s: %d rounds in %v\n", partial, s.rounds, s.elapsed.Round(time.Second))
	fmt.Fprintf(out, "  histories checked: %d\n", s.hists)
	fmt.Fprintf(out, "  operations:        %d (ok %d, failed %d, unknown %d); %d in the checked histories",
		s.stats.Total(), s.stats.OK, s.stats.Failed, s.stats.Unknown, s.checked)
	if s.stats.Excused > 0 {
		fmt.Fprintf(out, "; %d acknowledged in a failover's loss window", s.stats.Excused)
	}
	fmt.Fprintln(out)
	fmt.Fprintf(out, "  faults injected:   %s\n", history.FaultCounts(s.faults))
	for _, name := range slices.Sorted(maps.Keys(s.cells)) {
		t := s.cells[name]
		fmt.Fprintf(out, "  %-17s %4d rounds, %8d ops, %8d checked, %5d faults, %d anomalies\n", name+":", t.rounds, t.ops, t.checked, t.faults, t.anomalies)
	}
	fmt.Fprintf(out, "  anomalies found:   %d", s.anomalies)
	if s.inconclusive > 0 {
		fmt.Fprintf(out, " (and %d inconclusive checks)", s.inconclusive)
	}
	fmt.Fprintf(out, "\n  seed:              %d (replay: go run ./loadtest -scenario check -seed %d -duration %s -round %s -faults %s -cells %s -concurrency %d)\n",
		s.seed, s.seed, s.cfg.duration, s.cfg.round, join(s.cfg.faults), join(s.cfg.checkCell), s.cfg.concurrency)
}

func join(s []string) string { return strings.Join(s, ",") }

func indent(s string) string {
	if s == "" {
		return ""
	}
	return "    " + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n    ") + "\n"
}
