package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/igniter-go/store/internal/history"
	"github.com/igniter-go/store/internal/redistest"
)

// -scenario check runs rounds of every model under every fault on a redis-server of its own,
// checks each round's history, and prints histories, operations, faults by kind, anomalies and
// the seed.
func TestCheckScenarioRunsRoundsUnderFaults(t *testing.T) {
	needRedis(t)
	s, out := runCheckArgs(t, "-duration", "5s", "-round", "1s", "-seed", "42",
		"-faults", "lost-reply,kill-connections,delay-replies,freeze,restart,restart-wipe")
	injected := 0
	for _, n := range s.faults {
		injected += n
	}
	switch {
	case s.rounds < 2 || s.hists < s.rounds || s.checked == 0:
		t.Errorf("%d rounds, %d histories, %d operations checked", s.rounds, s.hists, s.checked)
	case injected == 0:
		t.Errorf("no fault injected")
	case s.anomalies != 0 || s.inconclusive != 0:
		t.Errorf("%d anomalies, %d inconclusive", s.anomalies, s.inconclusive)
	case s.seed != 42:
		t.Errorf("seed %d, want the -seed given", s.seed)
	}
	for _, want := range []string{"histories checked:", "faults injected:", "anomalies found:   0", "-seed 42", "round 0 "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in the output", want)
		}
	}
}

// -scenario check's flags: its faults and models by name, and no target of the caller's.
func TestCheckScenarioFlags(t *testing.T) {
	c, err := parseFlags([]string{"-scenario", "check"}, &bytes.Buffer{})
	if err != nil || c.concurrency != 4 || len(c.faults) != len(history.AllFaults)+4 || len(c.checkCell) != len(checkCellNames) {
		t.Errorf("defaults: %v, concurrency %d, faults %v, cells %v", err, c.concurrency, c.faults, c.checkCell)
	}
	for _, args := range [][]string{
		{"-faults", "lost-reply,meteor"},
		{"-faults", "failover"},        // a failover names its backend
		{"-faults", "sentinel-freeze"}, // only failovers on a replicated backend
		{"-cells", "kv,queue"},
		{"-faults", ","},
		{"-round", "0"},
		{"-redis", "127.0.0.1:6379"},
		{"-start-redis"},
		{"-rate", "100"},
	} {
		if _, err := parseFlags(append([]string{"-scenario", "check"}, args...), &bytes.Buffer{}); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}

// -faults cluster-failover,sentinel-failover starts a cluster and a Sentinel set-up besides no
// single redis-server, runs rounds of at least 8s on each in turn (the KV register and the
// counter, "kv@cluster"…), and summarises them like any other.
func TestCheckScenarioFailoverBackends(t *testing.T) {
	needRedis(t)
	if redistest.CLIBinary() == "" {
		t.Skip("SKIPPING: the cluster needs redis-cli (apt-get install -y redis-tools)")
	}
	s, out := runCheckArgs(t, "-duration", "16s", "-seed", "7", "-cells", "kv,counter,lease",
		"-faults", "cluster-failover,sentinel-failover")
	switch {
	case s.rounds != 2 || s.checked == 0:
		t.Errorf("%d rounds, %d operations checked; want one round on each set-up", s.rounds, s.checked)
	case s.faults[history.Failover] != 2:
		t.Errorf("faults %v, want one failover per round", s.faults)
	case s.anomalies != 0 || s.inconclusive != 0:
		t.Errorf("%d anomalies, %d inconclusive", s.anomalies, s.inconclusive)
	}
	for _, want := range []string{"@cluster (seed", "@sentinel (seed", "Redis Cluster started for this run", "Sentinel set-up started for this run"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in the output", want)
		}
	}
}

// runCheckArgs runs -scenario check with args, logs its output and returns its summary and
// output; an error of the run fails the test.
func runCheckArgs(t *testing.T, args ...string) (*checkSummary, *bytes.Buffer) {
	t.Helper()
	c, err := parseFlags(append([]string{"-scenario", "check"}, args...), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	s, err := runCheck(context.Background(), c, &out)
	if s != nil {
		s.print(&out)
	}
	t.Logf("\n%s", out.String())
	if err != nil {
		t.Fatal(err)
	}
	return s, &out
}
