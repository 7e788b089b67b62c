package redistest

import (
	"os"
	"path/filepath"
	"syscall"
)

// Freeze stops the server with SIGSTOP: it keeps its connections and its data, accepts new TCP
// connections into the kernel's backlog, and answers nothing until Thaw — a frozen server, as
// a long GC-like pause, a stopped VM or a swapped-out process. Commands sent meanwhile run after
// Thaw, after the client may have given up on them. It is a no-op when the server is not running.
func (s *Server) Freeze() { s.signal(syscall.SIGSTOP) }

// Thaw resumes a server stopped by Freeze (SIGCONT).
func (s *Server) Thaw() { s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		_ = s.cmd.Process.Signal(sig)
	}
}

// RestartEmpty is Restart without persistence, whatever the server's own settings: it SIGKILLs
// the server, removes every file in its directory (RDB and AOF), and starts it again on the same
// port, empty. Every write, acknowledged or not, is lost — as when a server without persistence
// restarts.
func (s *Server) RestartEmpty() {
	s.t.Helper()
	s.repick = nil
	s.Kill()
	if dir := s.dir(); dir != "" {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				s.t.Fatalf("redistest: wipe %s: %v", dir, err)
			}
		}
	}
	s.start()
}

// dir is the server's last --dir argument (the one redis-server applies), or "" when it has none.
func (s *Server) dir() string {
	dir := ""
	for i, a := range s.args {
		if a == "--dir" && i+1 < len(s.args) {
			dir = s.args[i+1]
		}
	}
	return dir
}
