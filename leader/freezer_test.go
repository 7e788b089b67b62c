package leader_test

import (
	"net"
	"sync"
	"testing"
)

// freezer is a TCP proxy to Redis whose freeze makes every connection open at that moment go
// silent without closing: a stalled connection, as in a network partition. (A copy of the
// client package's test proxy; test helpers cannot be imported across packages.)
type freezer struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	stops  []chan struct{}
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newFreezer(t *testing.T, target string) *freezer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &freezer{ln: ln, target: target}
	f.wg.Add(1)
	go f.accept()
	t.Cleanup(f.close)
	return f
}

func (f *freezer) addr() string { return f.ln.Addr().String() }

func (f *freezer) accept() {
	defer f.wg.Done()
	for {
		in, err := f.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", f.target)
		if err != nil {
			in.Close()
			continue
		}
		stop := make(chan struct{})
		f.mu.Lock()
		f.stops = append(f.stops, stop)
		f.conns = append(f.conns, in, out)
		f.mu.Unlock()
		f.wg.Add(2)
		go f.pipe(in, out, stop)
		go f.pipe(out, in, stop)
	}
}

func (f *freezer) pipe(dst, src net.Conn, stop chan struct{}) {
	defer f.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			return
		}
		select {
		case <-stop:
			continue
		default:
		}
		if _, err := dst.Write(buf[:n]); err != nil {
			return
		}
	}
}

// freeze silences every connection open now, and every later one.
func (f *freezer) freeze() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.stops {
		select {
		case <-s:
		default:
			close(s)
		}
	}
	f.ln.Close() // new connections are refused: the whole path to Redis is stalled
}

func (f *freezer) close() {
	f.ln.Close()
	f.mu.Lock()
	for _, c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
}
