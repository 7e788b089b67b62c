// Package redistest starts a real redis-server for integration tests: on a free loopback port,
// with persistence off, killed at the test's cleanup. No Docker.
//
// Where no redis-server binary is installed the test is skipped with a loud message, unless the
// environment variable IGNITER_REQUIRE_REDIS is set (CI sets it), in which case it fails.
//
// It also holds what the tests around such a server share: [InfoInt] reads a field of INFO,
// [LogBuffer] collects a logger's or a child process's output, and [CPUPerOp] reports a
// benchmark's client CPU per op. A [Cluster] or a [Sentinel] set-up fails over on demand
// (Failover, KillPrimary, with the times a history checker needs: [Handover]); [Program] runs
// the set-ups outside a test (the load harness's long mode).
package redistest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RequireEnv is the variable that turns a missing redis-server into a failure.
const RequireEnv = "IGNITER_REQUIRE_REDIS"

// Server is a redis-server process owned by one test.
type Server struct {
	// Addr is host:port on 127.0.0.1.
	Addr string
	Port int

	t    testing.TB
	bin  string
	args []string
	// ready is the log line that says the process is ready; "" means redis-server's
	// "Ready to accept connections" (a sentinel prints no such line).
	ready string
	// repick, when set, chooses new ports and arguments after a failed first start whose port
	// was taken meanwhile (free ports are picked, closed, then bound by redis-server: another
	// process can take one in between). Restart keeps the port and clears it.
	repick  func()
	repicks int
	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{}
}

// Binary returns the path of redis-server, or "" when none is installed.
func Binary() string {
	p, err := exec.LookPath("redis-server")
	if err != nil {
		return ""
	}
	return p
}

// Start starts a redis-server on a free loopback port, waits until it accepts connections, and
// kills it at cleanup. extra arguments are passed on ("--maxmemory", "1mb"…).
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	bin := Binary()
	if bin == "" {
		if os.Getenv(RequireEnv) != "" {
			t.Fatalf("redis-server is not installed and %s is set: install it (apt-get install -y redis-server)", RequireEnv)
		}
		t.Skip("SKIPPING: redis-server is not installed; integration tests need it (apt-get install -y redis-server)")
	}
	s := &Server{t: t, bin: bin}
	dir := t.TempDir()
	s.repick = func() {
		port := freePort(t)
		s.Addr, s.Port = "127.0.0.1:"+strconv.Itoa(port), port
		s.args = append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--daemonize", "no", "--loglevel", "notice", "--dir", dir}, extra...)
	}
	s.repick()
	s.start()
	t.Cleanup(s.Kill)
	return s
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("redistest: no free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// start runs the process and waits for its "Ready to accept connections" line.
func (s *Server) start() {
	s.t.Helper()
	cmd := exec.Command(s.bin, s.args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		s.t.Fatalf("redistest: %v", err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("redistest: start redis-server: %v", err)
	}
	readyLine := s.ready
	if readyLine == "" {
		readyLine = "Ready to accept connections"
	}
	ready := make(chan struct{})
	done := make(chan struct{})
	var log strings.Builder
	var logMu sync.Mutex
	go func() {
		sc := bufio.NewScanner(out)
		signalled := false
		for sc.Scan() {
			logMu.Lock()
			log.WriteString(sc.Text() + "\n")
			logMu.Unlock()
			if !signalled && strings.Contains(sc.Text(), readyLine) {
				signalled = true
				close(ready)
			}
		}
		_, _ = io.Copy(io.Discard, out)
		_ = cmd.Wait()
		close(done)
	}()
	select {
	case <-ready:
	case <-done:
		logMu.Lock()
		defer logMu.Unlock()
		if s.repick != nil && strings.Contains(log.String(), "Address already in use") && s.repicks < 5 {
			// Another process took a port between its pick and the bind: pick again.
			s.repicks++
			s.repick()
			s.start()
			return
		}
		s.t.Fatalf("redistest: redis-server exited before it was ready:\n%s", log.String())
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		s.t.Fatalf("redistest: redis-server not ready after 30s")
	}
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
}

// Kill stops the server with SIGKILL and waits for it to exit. It is idempotent.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

// Restart starts the server again on the same port (after Kill) and waits until it is ready.
// The data is gone: persistence is off.
func (s *Server) Restart() {
	s.t.Helper()
	s.repick = nil
	s.Kill()
	s.start()
}

// Client returns a plain go-redis client for the server, closed at cleanup, with go-redis's
// retries off and ctx deadlines honoured (ContextTimeoutEnabled) as the store requires.
func (s *Server) Client(t testing.TB) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Monitor records every command the server receives from now on, as MONITOR prints them, until
// stop is called; stop returns the commands as argument lists.
func (s *Server) Monitor(t testing.TB) (stop func() [][]string) {
	t.Helper()
	conn, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatalf("redistest: monitor: %v", err)
	}
	r := bufio.NewReader(conn)
	fmt.Fprint(conn, "MONITOR\r\n")
	if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "+OK") {
		t.Fatalf("redistest: monitor: %q %v", line, err)
	}
	const marker = "redistest-monitor-end"
	var lines []string // written by the reader until end is closed, read by stop after
	end := make(chan struct{})
	go func() {
		defer close(end)
		for {
			line, err := r.ReadString('\n')
			if err != nil || strings.Contains(line, marker) {
				return
			}
			lines = append(lines, strings.TrimRight(line, "\r\n"))
		}
	}()
	return func() [][]string {
		// An ECHO from another connection marks the end: everything before it has been printed.
		c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
		_ = c.Echo(context.Background(), marker).Err()
		_ = c.Close()
		<-end
		_ = conn.Close()
		var out [][]string
		for _, l := range lines {
			if args, ok := ParseMonitorLine(l); ok {
				out = append(out, args)
			}
		}
		return out
	}
}

// ParseMonitorLine splits a MONITOR line (`+1700000000.123456 [0 127.0.0.1:5000] "set" "k" "v"`)
// into its unquoted arguments, leaving escapes as MONITOR prints them (\xc3, \").
func ParseMonitorLine(line string) ([]string, bool) {
	i := strings.Index(line, "] ")
	if i < 0 {
		return nil, false
	}
	rest := line[i+2:]
	var args []string
	for len(rest) > 0 {
		if rest[0] != '"' {
			return nil, false
		}
		j := 1
		var b strings.Builder
		for ; j < len(rest) && rest[j] != '"'; j++ {
			if rest[j] == '\\' && j+1 < len(rest) {
				if rest[j+1] == '"' || rest[j+1] == '\\' {
					b.WriteByte(rest[j+1])
				} else {
					b.WriteByte('\\')
					b.WriteByte(rest[j+1])
				}
				j++
				continue
			}
			b.WriteByte(rest[j])
		}
		args = append(args, b.String())
		rest = strings.TrimPrefix(rest[min(j+1, len(rest)):], " ")
	}
	return args, true
}
