package redistest

import (
	"net"
	"strconv"
	"testing"
)

// A server whose first port is taken by another process starts on a second pick.
func TestStartPicksAgainWhenThePortIsTaken(t *testing.T) {
	bin := Binary()
	if bin == "" {
		t.Skip("SKIPPING: redis-server is not installed")
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	picks := []int{taken.Addr().(*net.TCPAddr).Port, freePort(t)}
	s := &Server{t: t, bin: bin}
	s.repick = func() {
		port := picks[0]
		picks = picks[1:]
		s.Addr, s.Port = "127.0.0.1:"+strconv.Itoa(port), port
		s.args = []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir()}
	}
	s.repick()
	s.start()
	defer s.Kill()
	if s.repicks != 1 || len(picks) != 0 {
		t.Fatalf("repicks = %d, picks left %d: want one repick", s.repicks, len(picks))
	}
	if err := s.Client(t).Ping(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
}
