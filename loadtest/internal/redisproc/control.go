package redisproc

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
)

// Freeze stops the server with SIGSTOP: it keeps its connections and data and answers nothing
// until Thaw. Commands sent meanwhile run after Thaw.
func (s *Server) Freeze() error { return s.signal(syscall.SIGSTOP) }

// Thaw resumes a server stopped by Freeze (SIGCONT).
func (s *Server) Thaw() error { return s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) error {
	if s.cmd == nil {
		return errors.New("redis-server is not running")
	}
	return s.cmd.Process.Signal(sig)
}

// KillAndRestart SIGKILLs the server and starts it again on the same port and directory: what
// survives is what its persistence (StartWith's arguments) wrote.
func (s *Server) KillAndRestart() error {
	s.Kill()
	return s.Restart()
}

// RestartEmpty SIGKILLs the server, removes every file in its directory (RDB, AOF) and starts it
// again, empty: a restart without persistence, whatever the server's settings.
func (s *Server) RestartEmpty() error {
	s.Kill()
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(s.dir, e.Name())); err != nil {
			return err
		}
	}
	return s.Restart()
}
