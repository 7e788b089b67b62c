package redisproc_test

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/igniter-go/store/loadtest/internal/redisproc"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestStartKillRestartClose(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("IGNITER_REQUIRE_REDIS") != "" {
			t.Fatal("redis-server is not installed")
		}
		t.Skip("SKIPPING: redis-server is not installed")
	}
	s, err := redisproc.Start()
	if err != nil {
		t.Fatal(err)
	}
	dial := func() error {
		c, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err == nil {
			_ = c.Close()
		}
		return err
	}
	if err := dial(); err != nil {
		t.Fatal(err)
	}
	pid := s.PID()
	s.Kill()
	if dial() == nil {
		t.Fatal("killed server still accepts connections")
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := dial(); err != nil || s.PID() == pid {
		t.Fatalf("restart: %v, pid %d", err, s.PID())
	}
	pid = s.PID()
	s.Close()
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("process %d still exists after Close: %v", pid, err)
	}
}
