package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/igniter-go/store/loadtest/internal/report"
)

// Bad flags: one line on stderr naming the problem, nothing on stdout, exit status 2.
func TestBadFlagsExitTwoWithOneLine(t *testing.T) {
	bin := binary(t)
	for _, args := range [][]string{
		{"-scenario", "nope"},
		{"-duration", "0"},
		{"-duration", "soon"},
		{"-duration", "3"},
		{"-users", "0"},
		{"-limit", "2000000"},
		{"-no-such-flag"},
		{"-concurrency", "-1"},
		{"-rate", "-5"},
		{"-redis", "nohost"},
		{"-redis", "127.0.0.1:6379", "-start-redis"},
		{"-chaos", "-cluster", "127.0.0.1:7000"},
		{"-compare", "-scenario", "events"},
		{"-dist", "pareto"},
		{"-reads", "2"},
		{"-metrics-addr", "9090"},
		{"extra-argument"},
	} {
		cmd := exec.Command(bin, args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 {
			t.Errorf("%v: %v, want exit status 2", args, err)
			continue
		}
		lines := strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n")
		if len(lines) != 1 || !strings.HasPrefix(lines[0], "loadtest: ") || stdout.Len() != 0 {
			t.Errorf("%v: want one line on stderr and nothing on stdout, got stderr %q stdout %q", args, stderr.String(), stdout.String())
		}
		// A number without a unit is the usual mistake: the line says what to write instead.
		if args[0] == "-duration" && args[1] == "3" && !strings.Contains(stderr.String(), "needs a unit: 3s") {
			t.Errorf("-duration 3: %q does not say a unit is needed", stderr.String())
		}
	}
	if out, err := exec.Command(bin, "-h").Output(); err != nil || !strings.Contains(string(out), "-scenario") {
		t.Errorf("-h: %v\n%s", err, out)
	}
}

// Ctrl-C mid-run: the binary prints the report of what it measured, marked partial, writes
// -json, and exits 130.
func TestSignalYieldsAPartialReport(t *testing.T) {
	jsonFile := filepath.Join(t.TempDir(), "r.json")
	p := start(t, "-duration", "5m", "-warmup", "100ms", "-concurrency", "4", "-progress", "on", "-json", jsonFile)
	p.await(t, p.lines, "measuring")
	p.await(t, p.errs, "ops/s") // one measured second went by
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t); code != exitInterrupted {
		t.Errorf("exit status %d, want %d", code, exitInterrupted)
	}
	out := p.stdout.String()
	for _, want := range []string{"PARTIAL REPORT: interrupted by a signal", "kv.get", "kv.set", "p99.9", "client CPU"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	var r report.Report
	b, err := os.ReadFile(jsonFile)
	if err != nil {
		t.Fatal(err)
	}
	validJSON(t, b)
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if !r.Partial || r.All.Count == 0 || r.Elapsed <= 0 || r.Elapsed > time.Minute {
		t.Errorf("json: partial %v, count %d, elapsed %v", r.Partial, r.All.Count, r.Elapsed)
	}
}

var pidRE = regexp.MustCompile(`redis-server (127\.0\.0\.1:\d+) \(started for this run, pid (\d+)`)

// -start-redis: the server it started is gone after a normal end and after SIGTERM mid-run.
func TestStartRedisLeavesNoProcessBehind(t *testing.T) {
	needRedis(t)
	for _, tc := range []struct {
		name   string
		args   []string
		signal os.Signal
	}{
		{"completes", []string{"-duration", "500ms", "-warmup", "100ms"}, nil},
		{"SIGTERM", []string{"-duration", "5m", "-warmup", "100ms", "-progress", "on"}, syscall.SIGTERM},
		{"SIGKILL of the harness", []string{"-duration", "5m", "-warmup", "100ms", "-progress", "on"}, syscall.SIGKILL},
		{"SIGINT after the chaos restart", []string{"-chaos", "-duration", "8s", "-chaos-down", "300ms", "-warmup", "100ms", "-progress", "on"}, os.Interrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// With -chaos too: -start-redis -chaos is how the dashboards run it.
			args := append([]string{"-start-redis", "-concurrency", "4"}, tc.args...)
			p := start(t, args...)
			m := pidRE.FindStringSubmatch(p.await(t, p.lines, "started for this run"))
			if m == nil {
				t.Fatalf("no address and pid in the target line:\n%s", p.stdout.String())
			}
			addr := m[1]
			_, port, _ := net.SplitHostPort(addr)
			pid, _ := strconv.Atoi(m[2])
			if tc.signal != nil {
				if strings.Contains(tc.name, "chaos") {
					p.await(t, p.lines, "measuring")
					p.await(t, p.errs, "errors") // progress
					// Wait until the server is killed (at duration/4) and restarted: the
					// restarted process must not outlive the harness either.
					waitFor(t, func() bool { return syscall.Kill(pid, 0) != nil })
					waitFor(t, func() bool {
						c, err := net.DialTimeout("tcp", addr, time.Second)
						if err == nil {
							_ = c.Close()
						}
						return err == nil
					})
				} else {
					p.await(t, p.errs, "ops/s")
				}
				_ = p.cmd.Process.Signal(tc.signal)
			}
			code := p.wait(t)
			killed := tc.signal == syscall.SIGKILL
			if tc.signal == nil && code != 0 || tc.signal != nil && !killed && code != exitInterrupted {
				t.Errorf("exit status %d\n%s", code, p.stdout.String())
			}
			if killed {
				// The harness cannot clean up after SIGKILL: the server dies with it
				// (Pdeathsig), and is a zombie until init reaps it.
				waitFor(t, func() bool { return !running(pid) })
			} else if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("redis-server pid %d still exists: %v", pid, err)
			}
			if left := processesWith("--port\x00" + port + "\x00"); len(left) > 0 {
				t.Errorf("processes still running with --port %s: %v", port, left)
			}
			// No dial check on the port: once the server is gone the kernel may hand the port to
			// a redis-server another test starts at the same time; the pid and the process
			// list above are the exact evidence.
			if tc.signal != nil && !killed && !strings.Contains(p.stdout.String(), "PARTIAL REPORT") {
				t.Errorf("no partial report:\n%s", p.stdout.String())
			}
		})
	}
}

// running reports whether pid exists and is not a zombie.
func running(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	// pid (comm) state …: the state follows the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// processesWith returns the live pids whose command line (NUL-separated) contains s.
func processesWith(s string) []string {
	var pids []string
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		if _, err := strconv.Atoi(d.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		pid, _ := strconv.Atoi(d.Name())
		if err == nil && strings.Contains(string(b), s) && running(pid) {
			pids = append(pids, d.Name())
		}
	}
	return pids
}

// waitFor polls cond every 20 ms for up to 30 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met after 30s")
}

// quick returns a short run's config on the embedded Redis.
func quick(t *testing.T, args ...string) config {
	t.Helper()
	c, err := parseFlags(append([]string{"-duration", "400ms", "-warmup", "100ms", "-concurrency", "4", "-keys", "200", "-progress", "off"}, args...), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Every scenario runs through the store on the embedded Redis and reports its operations.
func TestEveryScenarioReports(t *testing.T) {
	for _, tc := range []struct {
		args []string
		ops  []string
		note string
	}{
		{[]string{"-scenario", "kv", "-dist", "zipf"}, []string{"kv.get", "kv.set"}, ""},
		// One user, 2 checks a second: with 4 workers both paths run in any measured second.
		{[]string{"-scenario", "counter", "-limit", "2", "-users", "1"}, []string{opAllowed, opRefused}, "rate limit"},
		{[]string{"-scenario", "claim"}, []string{"claim.once+release", "lease.acquire+extend+release"}, "contention:"},
		{[]string{"-scenario", "events", "-subscribers", "2"}, []string{"events.publish", "events.deliver"}, "events:"},
		{[]string{"-scenario", "streams", "-consumers", "2"}, []string{"streams.append", "streams.consume"}, "streams:"},
		{[]string{"-scenario", "mixed", "-tenants", "3"}, []string{"kv.get", opAllowed, "batch.get", "events.deliver", "streams.consume"}, "lag"},
	} {
		t.Run(tc.args[1], func(t *testing.T) {
			var out bytes.Buffer
			// A second measured, so that deliveries and consumptions land inside the run
			// even on a loaded machine.
			r, err := run(context.Background(), quick(t, append([]string{"-duration", "1s"}, tc.args...)...), &out, nil)
			if err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			report.Text(&out, r)
			validReport(t, r)
			if first, _, _ := strings.Cut(out.String()[strings.Index(out.String(), "measuring…\n")+len("measuring…\n"):], "\n"); first != report.Banner(r) {
				t.Errorf("the text report's first line %q is not the banner %q", first, report.Banner(r))
			}
			got := map[string]int64{}
			for _, s := range r.Ops {
				got[s.Op] = s.Count
				if s.ErrorCount() > 0 {
					t.Errorf("%s: errors %v", s.Op, s.Errors)
				}
			}
			for _, op := range tc.ops {
				if got[op] == 0 {
					t.Errorf("no %s measured:\n%s", op, out.String())
				}
			}
			if !strings.Contains(strings.Join(r.Notes, "\n"), tc.note) || len(r.Series) == 0 || r.CPUPerOp <= 0 {
				t.Errorf("notes %q, %d seconds, CPU/op %v:\n%s", r.Notes, len(r.Series), r.CPUPerOp, out.String())
			}
			if got[opAllowed] > 0 {
				checkRateLimitNote(t, r, got)
			}
			if m := claimNoteRE.FindStringSubmatch(strings.Join(r.Notes, "\n")); m != nil {
				// No errors here, so the rows' counts are their successes.
				if won, taken := got[opClaimWon]+got[opLeaseWon], got[opClaimTaken]+got[opLeaseTaken]; m[1] != fmt.Sprint(won) || m[2] != fmt.Sprint(taken) {
					t.Errorf("note %q, rows: %d won, %d taken", m[0], won, taken)
				}
			} else if tc.args[1] == "claim" {
				t.Errorf("no contention note in %q", r.Notes)
			}
		})
	}
}

var claimNoteRE = regexp.MustCompile(`contention: (\d+) claims won, (\d+) found taken`)

var rateNoteRE = regexp.MustCompile(`rate limit \(ratelimit package, GCRA\): (\d+) of (\d+) checks refused`)

// checkRateLimitNote checks that the rate-limit note counts exactly the table's rows.
func checkRateLimitNote(t *testing.T, r *report.Report, rows map[string]int64) {
	t.Helper()
	m := rateNoteRE.FindStringSubmatch(strings.Join(r.Notes, "\n"))
	if m == nil {
		t.Fatalf("no rate-limit note in %q", r.Notes)
	}
	refused, _ := strconv.ParseInt(m[1], 10, 64)
	checks, _ := strconv.ParseInt(m[2], 10, 64)
	if refused != rows[opRefused] || checks != rows[opAllowed]+rows[opRefused] {
		t.Errorf("note %q, rows %s %d and %s %d", m[0], opAllowed, rows[opAllowed], opRefused, rows[opRefused])
	}
}

// An open-loop run reports the service time beside the corrected latency, and -ops stops it.
func TestOpenLoopAndOpCount(t *testing.T) {
	r, err := run(context.Background(), quick(t, "-rate", "400"), &bytes.Buffer{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	validReport(t, r)
	if r.All.Count < 100 || r.Ops[0].Service == nil || !strings.Contains(r.Loop, "open loop at 400") {
		t.Errorf("open loop: %d ops, loop %q, service %v", r.All.Count, r.Loop, r.Ops[0].Service)
	}
	c := quick(t, "-ops", "500")
	c.duration = time.Hour
	r, err = run(context.Background(), c, &bytes.Buffer{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := r.All.Count + r.All.ErrorCount(); n < 500 || n > 504 || r.Partial {
		t.Errorf("-ops 500: %d measured, partial %v", n, r.Partial)
	}
}

// -compare runs plain go-redis and the store in one run and prints both and their ratios.
func TestCompare(t *testing.T) {
	for _, s := range compareScenarios {
		t.Run(s, func(t *testing.T) {
			var out bytes.Buffer
			r, err := run(context.Background(), quick(t, "-compare", "-scenario", s), &out, nil)
			if err != nil {
				t.Fatal(err)
			}
			report.Text(&out, r)
			validReport(t, r)
			if len(r.Compare) != 2 || r.Compare[0].All.Count == 0 || r.Compare[1].All.Count == 0 ||
				r.Compare[0].CPUPerOp <= 0 || r.Compare[1].CPUPerOp <= 0 {
				t.Fatalf("variants: %+v", r.Compare)
			}
			if e := r.Compare[0].All.ErrorCount() + r.Compare[1].All.ErrorCount(); e != 0 {
				t.Errorf("%d errors:\n%s", e, out.String())
			}
			if !strings.Contains(out.String(), "store/go-redis") {
				t.Errorf("no ratio line:\n%s", out.String())
			}
		})
	}
}
