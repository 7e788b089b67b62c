package interop_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/igniter-go/store/internal/redistest"
)

// RequireNodeEnv is the variable that turns a missing node (or npm, or a failed npm ci) into a
// failure instead of a skip. .ci/run sets it.
const RequireNodeEnv = "IGNITER_REQUIRE_NODE"

// nodeDir is the Node project: package.json, package-lock.json and driver.mjs.
const nodeDir = "node"

// nodeSetup is found once per test binary: the node binary, or why the tests cannot run.
var nodeSetup struct {
	once   sync.Once
	bin    string
	reason string
}

// needNode returns the node binary with interop/node's packages installed as the lock file
// pins them, running npm ci first when they are missing or stale. Where that cannot be done it
// skips t with how to fix it, or fails t when RequireNodeEnv is set.
func needNode(t *testing.T) string {
	t.Helper()
	nodeSetup.once.Do(func() { nodeSetup.bin, nodeSetup.reason = setUpNode() })
	if nodeSetup.reason != "" {
		if os.Getenv(RequireNodeEnv) != "" {
			t.Fatalf("%s is set, but: %s", RequireNodeEnv, nodeSetup.reason)
		}
		t.Skipf("SKIPPING the Node interop tests: %s", nodeSetup.reason)
	}
	return nodeSetup.bin
}

func setUpNode() (bin, reason string) {
	bin, err := exec.LookPath("node")
	if err != nil {
		return "", "node is not installed (apt-get install -y nodejs npm; the tests then install the npm packages " +
			"themselves, or: cd interop/node && npm ci)"
	}
	stale := staleModules()
	if stale == "" {
		return bin, ""
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", fmt.Sprintf("the npm packages are not installed (%s) and npm is not (apt-get install -y npm, or: cd interop/node && npm ci)", stale)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = nodeDir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Sprintf("npm ci in interop/node failed (%v): %s", err, tail(out.String(), 2000))
	}
	if stale := staleModules(); stale != "" {
		return "", "after npm ci in interop/node: " + stale
	}
	return bin, ""
}

// staleModules compares interop/node/node_modules with package-lock.json: "" when every locked
// package is installed at its locked version, otherwise the first that is not.
func staleModules() string {
	raw, err := os.ReadFile(filepath.Join(nodeDir, "package-lock.json"))
	if err != nil {
		return err.Error()
	}
	var lock struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(raw, &lock); err != nil {
		return "package-lock.json: " + err.Error()
	}
	for path, p := range lock.Packages {
		if path == "" {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(nodeDir, path, "package.json"))
		if err != nil {
			return path + " is missing"
		}
		var got struct {
			Version string `json:"version"`
		}
		if json.Unmarshal(raw, &got) != nil || got.Version != p.Version {
			return fmt.Sprintf("%s is %q, the lock file pins %q", path, got.Version, p.Version)
		}
	}
	return ""
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// nodeProc is one node driver.mjs process on a redis-server: a Node service of the original.
type nodeProc struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	stderr *redistest.LogBuffer
	exited chan struct{} // closed when stdout ends (the process exited or was killed)

	mu      sync.Mutex
	stdin   io.WriteCloser
	nextID  int64
	pending map[int64]*nodeCall
	killed  bool
}

// nodeCall is one command sent to a nodeProc.
type nodeCall struct {
	id      int64
	onEvent func(json.RawMessage) // runs on the process's reader goroutine: keep it short
	done    chan struct{}
	result  json.RawMessage
	err     error
}

// startNode starts a Node service on the redis-server at addr. It is stopped (stdin closed,
// then killed if it does not exit) at the test's cleanup, and its stderr is logged if the test
// failed.
func startNode(t *testing.T, bin, addr, name string) *nodeProc {
	t.Helper()
	cmd := exec.Command(bin, "driver.mjs", "--addr", addr)
	cmd.Dir = nodeDir
	p := &nodeProc{t: t, name: name, cmd: cmd, stderr: &redistest.LogBuffer{}, exited: make(chan struct{}), pending: map[int64]*nodeCall{}}
	cmd.Stderr = p.stderr
	var err error
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start node %s: %v", name, err)
	}
	waited := make(chan struct{})
	go func() {
		p.read(stdout)
		_ = cmd.Wait()
		close(waited)
	}()
	t.Cleanup(func() {
		p.mu.Lock()
		_ = p.stdin.Close() // driver.mjs stops its commands and exits when stdin closes
		p.mu.Unlock()
		select {
		case <-waited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-waited
		}
		if t.Failed() {
			if s := p.stderr.String(); s != "" {
				t.Logf("node %s stderr:\n%s", name, tail(s, 4000))
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var hello struct {
		Node, Store, IORedis, Zod string
	}
	if _, err := p.call(ctx, map[string]any{"cmd": "hello"}, &hello); err != nil {
		t.Fatalf("node %s: %v", name, err)
	}
	if hello.Store != "0.1.26" {
		t.Fatalf("node %s runs @igniter-js/store %q, want 0.1.26", name, hello.Store)
	}
	nodeVersions.once.Do(func() {
		nodeVersions.s = fmt.Sprintf("node %s, @igniter-js/store %s, ioredis %s, zod %s", hello.Node, hello.Store, hello.IORedis, hello.Zod)
	})
	return p
}

// nodeVersions names what the Node side ran, for the summary line.
var nodeVersions struct {
	once sync.Once
	s    string
}

// read routes the process's output lines to their calls until stdout ends, then fails the
// calls still pending.
func (p *nodeProc) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var m struct {
			ID     int64           `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *string         `json:"error"`
			Event  json.RawMessage `json:"event"`
		}
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			p.t.Errorf("node %s wrote %q: %v", p.name, tail(sc.Text(), 200), err)
			continue
		}
		p.mu.Lock()
		c := p.pending[m.ID]
		if c != nil && m.Event == nil {
			delete(p.pending, m.ID)
		}
		p.mu.Unlock()
		switch {
		case c == nil:
			p.t.Errorf("node %s answered an unknown command %d: %s", p.name, m.ID, tail(sc.Text(), 200))
		case m.Event != nil:
			if c.onEvent != nil {
				c.onEvent(m.Event)
			}
		case m.Error != nil:
			c.err = fmt.Errorf("node %s: %s", p.name, *m.Error)
			close(c.done)
		default:
			c.result = m.Result
			close(c.done)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	close(p.exited)
	for id, c := range p.pending {
		c.err = fmt.Errorf("node %s exited (killed: %v) before answering; stderr: %s", p.name, p.killed, tail(p.stderr.String(), 2000))
		close(c.done)
		delete(p.pending, id)
	}
}

// start sends a command and returns at once; onEvent receives its progress events.
func (p *nodeProc) start(cmd map[string]any, onEvent func(json.RawMessage)) *nodeCall {
	c := &nodeCall{onEvent: onEvent, done: make(chan struct{})}
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.exited:
		c.err = fmt.Errorf("node %s has exited; stderr: %s", p.name, tail(p.stderr.String(), 2000))
		close(c.done)
		return c
	default:
	}
	p.nextID++
	id := p.nextID
	c.id = id
	msg := make(map[string]any, len(cmd)+1)
	for k, v := range cmd {
		msg[k] = v
	}
	msg["id"] = id
	line, err := json.Marshal(msg)
	if err == nil {
		p.pending[id] = c
		_, err = p.stdin.Write(append(line, '\n'))
	}
	if err != nil {
		delete(p.pending, id)
		c.err = fmt.Errorf("node %s: send %v: %w", p.name, cmd["cmd"], err)
		close(c.done)
	}
	return c
}

// wait returns the command's result, or its error, or ctx's.
func (c *nodeCall) wait(ctx context.Context) (json.RawMessage, error) {
	select {
	case <-c.done:
		return c.result, c.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// call sends a command and waits for its result, decoding it into out when out is not nil.
func (p *nodeProc) call(ctx context.Context, cmd map[string]any, out ...any) (json.RawMessage, error) {
	res, err := p.start(cmd, nil).wait(ctx)
	if err == nil && len(out) > 0 {
		if err = json.Unmarshal(res, out[0]); err != nil {
			err = fmt.Errorf("node %s: %v answered %s: %w", p.name, cmd["cmd"], tail(string(res), 200), err)
		}
	}
	return res, err
}

// mustCall is call that fails the test on an error. ctx bounds it.
func (p *nodeProc) mustCall(ctx context.Context, cmd map[string]any, out ...any) json.RawMessage {
	p.t.Helper()
	res, err := p.call(ctx, cmd, out...)
	if err != nil {
		p.t.Fatal(err)
	}
	return res
}

// kill ends the process with SIGKILL, as a crash does, and waits until its output ends.
func (p *nodeProc) kill() {
	p.mu.Lock()
	p.killed = true
	p.mu.Unlock()
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// stop stops the long-running command c (consume, subscribe) and returns its result.
func (p *nodeProc) stop(ctx context.Context, c *nodeCall) (json.RawMessage, error) {
	if _, err := p.call(ctx, map[string]any{"cmd": "stop", "target": c.id}); err != nil {
		return nil, err
	}
	return c.wait(ctx)
}
