package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/igniter-go/store/internal/redistest"
)

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

// binary builds the loadtest command once for the subprocess tests.
func binary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "loadtest-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "loadtest")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = err
			binPath = string(out)
		}
	})
	if binErr != nil {
		t.Fatalf("go build: %v\n%s", binErr, binPath)
	}
	return binPath
}

// needRedis skips (or, under IGNITER_REQUIRE_REDIS, fails) a test that needs redis-server.
func needRedis(t *testing.T) {
	t.Helper()
	if redistest.Binary() == "" {
		if os.Getenv(redistest.RequireEnv) != "" {
			t.Fatal("redis-server is not installed")
		}
		t.Skip("SKIPPING: this test needs redis-server (apt-get install -y redis-server)")
	}
}

// proc is the loadtest binary running as a subprocess.
type proc struct {
	cmd    *exec.Cmd
	stdout *redistest.LogBuffer
	lines  chan string // stdout lines as they come
	errs   chan string // stderr lines as they come
	done   chan struct{}
}

func start(t *testing.T, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, stdout: &redistest.LogBuffer{}, lines: make(chan string, 1000), errs: make(chan string, 1000), done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	pump := func(r io.Reader, ch chan string, copyTo io.Writer) {
		defer wg.Done()
		sc := bufio.NewScanner(r)
		sc.Split(scanLinesOrCR)
		for sc.Scan() {
			if copyTo != nil {
				_, _ = copyTo.Write(append(sc.Bytes(), '\n'))
			}
			select {
			case ch <- sc.Text():
			default:
			}
		}
	}
	wg.Add(2)
	go pump(stdout, p.lines, p.stdout)
	go pump(stderr, p.errs, nil)
	go func() { wg.Wait(); _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// scanLinesOrCR splits on \n and on \r (the progress line rewrites itself with \r).
func scanLinesOrCR(data []byte, atEOF bool) (int, []byte, error) {
	for i, b := range data {
		if b == '\n' || b == '\r' {
			return i + 1, data[:i], nil
		}
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// await waits for a line containing want on ch, up to 60 s.
func (p *proc) await(t *testing.T, ch chan string, want string) string {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case l := <-ch:
			if strings.Contains(l, want) {
				return l
			}
		case <-p.done:
			t.Fatalf("exited before printing %q; stdout:\n%s", want, p.stdout.String())
		case <-deadline:
			t.Fatalf("no %q after 60s; stdout:\n%s", want, p.stdout.String())
		}
	}
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("still running 60s after the signal; stdout:\n%s", p.stdout.String())
	}
	return p.cmd.ProcessState.ExitCode()
}
