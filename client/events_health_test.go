package client_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
)

// freezer is a TCP proxy to Redis whose Freeze makes every connection open at that moment go
// silent without closing: a half-open connection, as after a network partition. Connections
// opened later work.
type freezer struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	frozen []chan struct{} // closed to freeze one connection's forwarding
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
		f.frozen = append(f.frozen, stop)
		f.conns = append(f.conns, in, out)
		f.mu.Unlock()
		f.wg.Add(2)
		go f.pipe(in, out, stop)
		go f.pipe(out, in, stop)
	}
}

// pipe copies src to dst until src fails; once stop is closed it reads and discards.
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
			continue // swallowed: the peer hears nothing
		default:
		}
		if _, err := dst.Write(buf[:n]); err != nil {
			return
		}
	}
}

// freeze silences every connection open now.
func (f *freezer) freeze() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.frozen {
		select {
		case <-s:
		default:
			close(s)
		}
	}
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

// A subscriber connection that goes silent without closing (half-open) is detected by the
// health check, replaced, and every channel and pattern receives again.
func TestEventsHalfOpenConnectionReplaced(t *testing.T) {
	srv := redistest.Start(t)
	proxy := newFreezer(t, srv.Addr)
	obs, reconnected := signalsOf(ops.SignalReconnected)
	rdb := redis.NewClient(&redis.Options{Addr: proxy.addr(), MaxRetries: -1})
	st, err := client.New().WithService("api").WithAdapter(client.Redis(rdb, client.OwnClient())).WithObserver(obs).WithHealthCheck(100 * time.Millisecond).Build()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	exact, pattern := subscribeExactAndPattern(ctx, t, st)
	proxy.freeze()
	awaitReconnect(t, reconnected, 2, "the silent connection was not replaced")
	// Publish directly (the store's own pooled connection is frozen too).
	direct := srv.Client(t)
	if err := direct.Publish(ctx, "igniter:store:api:events:user:created", `"after"`).Err(); err != nil {
		t.Fatal(err)
	}
	for _, box := range []*inbox{exact, pattern} {
		if m := box.next(t); string(m.Data) != `"after"` {
			t.Fatalf("received %s", m.Data)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}
