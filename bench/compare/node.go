package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"time"
)

// The Node original (@igniter-js/store with its ioredis adapter) runs as one long-lived
// `node bench.mjs --serve` process per client, for the whole run: the harness sends it one JSON
// line per cell and reads one JSON line back. Its numbers are its own: ops/s and latencies
// measured in the node process, and CPU per op from process.cpuUsage() of the node process, so
// this process's CPU is never counted for a node cell (nor the node process's for a Go cell:
// getrusage(RUSAGE_SELF) leaves children out).

// nodeClients maps each Node client to its bench.mjs flags.
var nodeClients = map[string][]string{
	"node":          nil,                // one ioredis connection, auto-pipelining off (ioredis's default)
	"node-autopipe": {"--autopipeline"}, // the same with enableAutoPipelining: true
}

func isNodeClient(name string) bool { _, ok := nodeClients[name]; return ok }

// nodeSetup finds node and bench/node/bench.mjs with its packages installed. It returns the
// node binary and the script, or why the Node clients cannot run and how to fix it.
func nodeSetup(dir string) (bin, script string, err error) {
	if dir == "" {
		dir = "node" // go run ./compare from bench/
		if _, err := os.Stat(filepath.Join(dir, "bench.mjs")); err != nil {
			if _, src, _, ok := runtime.Caller(0); ok {
				dir = filepath.Join(filepath.Dir(src), "..", "node")
			}
		}
	}
	script = filepath.Join(dir, "bench.mjs")
	if _, err := os.Stat(script); err != nil {
		return "", "", fmt.Errorf("%s not found (run from bench/ or pass -nodedir)", script)
	}
	bin, err = exec.LookPath("node")
	if err != nil {
		return "", "", errors.New("node not found on PATH (install Node.js 20 or later, then cd bench/node && npm ci)")
	}
	for _, pkg := range []string{"@igniter-js/store", "ioredis"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
			return "", "", fmt.Errorf("%s is not installed in %s (cd bench/node && npm ci)", pkg, dir)
		}
	}
	return bin, script, nil
}

// nodeResult is one bench.mjs answer.
type nodeResult struct {
	Ready        bool    `json:"ready"`
	Node         string  `json:"node"`
	Store        string  `json:"store"`
	IORedis      string  `json:"ioredis"`
	Autopipeline bool    `json:"autopipeline"`
	Error        string  `json:"error"`
	Ops          float64 `json:"ops"`
	P50          float64 `json:"p50_us"`
	P99          float64 `json:"p99_us"`
	CPUPerOp     float64 `json:"cpu_us_per_op"`
	Errors       int64   `json:"errors"`
}

// newNodeClient starts name's node process on the redis-server at addr and waits until it is
// connected and warmed up.
func newNodeClient(name, addr string, c config) (*benchClient, error) {
	args := append([]string{c.nodeScript, "--serve", "--addr", addr, "--service", service,
		"--key-prefix", keyPrefix, "--keys", strconv.Itoa(c.keys), "--size", strconv.Itoa(c.size)},
		nodeClients[name]...)
	cmd := exec.Command(c.nodeBin, args...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	lines := make(chan []byte)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- append([]byte(nil), sc.Bytes()...)
		}
	}()
	stop := func() {
		_ = in.Close() // bench.mjs exits when its stdin closes
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	read := func(timeout time.Duration) (nodeResult, error) {
		var r nodeResult
		select {
		case l, ok := <-lines:
			if !ok {
				return r, errors.New("node process exited")
			}
			if err := json.Unmarshal(l, &r); err != nil {
				return r, fmt.Errorf("node answered %q: %w", l, err)
			}
			if r.Error != "" {
				return r, errors.New(r.Error)
			}
			return r, nil
		case <-time.After(timeout):
			return r, fmt.Errorf("no answer from node in %s", timeout)
		}
	}
	hello, err := read(30 * time.Second)
	if err == nil && !hello.Ready {
		err = errors.New("node did not say it was ready")
	}
	if err != nil {
		stop()
		return nil, err
	}
	about := fmt.Sprintf("node %s, @igniter-js/store %s, ioredis %s", hello.Node, hello.Store, hello.IORedis)
	if hello.Autopipeline {
		about += ", enableAutoPipelining: true"
	}
	return &benchClient{
		about: about,
		cell: func(load string, n int, d time.Duration) (result, error) {
			cmd, _ := json.Marshal(map[string]any{"load": load, "callers": n,
				"duration_ms": d.Milliseconds(), "warmup_ms": (d / 5).Milliseconds()})
			if _, err := in.Write(append(cmd, '\n')); err != nil {
				return result{}, err
			}
			r, err := read(d + d/5 + 30*time.Second)
			if err != nil {
				return result{}, err
			}
			return result{
				ops:      r.Ops,
				p50:      time.Duration(r.P50 * 1e3),
				p99:      time.Duration(r.P99 * 1e3),
				cpuPerOp: time.Duration(r.CPUPerOp * 1e3),
				errors:   r.Errors,
				// the node process's allocations are its own heap's, not counted here
				allocsPerOp: -1, bytesPerOp: -1,
			}, nil
		},
		close: stop,
	}, nil
}

// nodeNames is the Node clients among names, for the one line that says they are skipped.
func nodeNames(names []string) []string {
	var out []string
	for _, n := range names {
		if isNodeClient(n) {
			out = append(out, n)
		}
	}
	return out
}
