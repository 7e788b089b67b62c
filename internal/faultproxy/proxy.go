package faultproxy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Proxy forwards connections from its own loopback address to a target address.
type Proxy struct {
	// Addr is the proxy's host:port on 127.0.0.1: point the client at it.
	Addr string

	target string
	ln     net.Listener
	wg     sync.WaitGroup

	stalled atomic.Bool // StallAll: connections made from now on are frozen too

	mu    sync.Mutex
	armed string        // lower-case command name to drop the reply of; "" when disarmed
	fired chan struct{} // closed when the armed drop happened
	conns map[*link]struct{}
	// holdArmed is the HoldReplyTo waiting for its command; holds are all of them (Close
	// releases them).
	holdArmed *heldReply
	holds     []*heldReply
	// Commands counts the commands forwarded to the server, per lower-case name.
	commands map[string]int
}

// Start listens on a free loopback port and forwards every connection to target until the
// test's cleanup, which closes the listener and every connection and waits for them.
func Start(t testing.TB, target string) *Proxy {
	t.Helper()
	p, err := Listen(target)
	if err != nil {
		t.Fatalf("faultproxy: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

// DropReplyTo arms the proxy once: the next command named name (any case) that any client
// sends through it is written to the server whole; when the server's reply arrives it is
// discarded and both sides of that connection are closed. The returned channel is closed then.
// Later commands pass through.
func (p *Proxy) DropReplyTo(name string) <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.armed = strings.ToLower(name)
	p.fired = make(chan struct{})
	return p.fired
}

// Disarm cancels an armed drop that has not fired.
func (p *Proxy) Disarm() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.armed = ""
}

// Count returns how many commands named name (any case) were forwarded to the server.
func (p *Proxy) Count(name string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.commands[strings.ToLower(name)]
}

// Freeze silences every connection open now, in both directions, without closing it: what each
// side sends is read and discarded, as over a half-open TCP connection or a stalled network. The
// client sees no error, only silence. Connections made after Freeze forward as usual.
func (p *Proxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for l := range p.conns {
		l.frozen.Store(true)
	}
}

// StallAll is Freeze for every connection, open now or made later: the whole path to Redis is
// stalled, as in a network partition (a client's new connections are accepted and hear nothing).
func (p *Proxy) StallAll() {
	p.stalled.Store(true)
	p.Freeze()
}

// Close stops accepting, closes every open connection and waits for the proxy's goroutines.
func (p *Proxy) Close() {
	_ = p.ln.Close()
	p.releaseHolds()
	p.mu.Lock()
	for l := range p.conns {
		l.close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		l := &link{client: c, server: s}
		l.frozen.Store(p.stalled.Load())
		p.mu.Lock()
		p.conns[l] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.upstream(l)
		go p.downstream(l)
	}
}

// link is one proxied connection.
type link struct {
	client, server net.Conn
	drop           atomic.Pointer[chan struct{}] // set when the next reply must be dropped
	frozen         atomic.Bool                   // Freeze: bytes are read and swallowed both ways
	hold           atomic.Pointer[heldReply]     // HoldReplyTo: the next reply waits for its release
	once           sync.Once
}

func (l *link) close() {
	l.once.Do(func() {
		_ = l.client.Close()
		_ = l.server.Close()
	})
}

func (p *Proxy) forget(l *link) {
	l.close()
	p.mu.Lock()
	delete(p.conns, l)
	p.mu.Unlock()
}

// upstream copies the client's commands to the server, one whole command at a time, and arms
// the link when the armed command goes by.
func (p *Proxy) upstream(l *link) {
	defer p.wg.Done()
	defer p.forget(l)
	r := bufio.NewReader(l.client)
	for {
		raw, name, err := readCommand(r)
		if err != nil {
			return
		}
		p.mu.Lock()
		p.commands[name]++
		if p.armed != "" && p.armed == name {
			fired := p.fired
			p.armed = ""
			l.drop.Store(&fired) // before the write: the reply cannot arrive before the flag
		}
		if h := p.armHold(name); h != nil {
			l.hold.Store(h) // before the write, as drop
		}
		p.mu.Unlock()
		if l.frozen.Load() {
			continue // swallowed: the server hears nothing
		}
		if _, err := l.server.Write(raw); err != nil {
			return
		}
	}
}

// downstream copies the server's replies to the client, unless the link is armed: then the
// reply is read, discarded, and the connection closed.
func (p *Proxy) downstream(l *link) {
	defer p.wg.Done()
	defer p.forget(l)
	buf := make([]byte, 32<<10)
	for {
		n, err := l.server.Read(buf)
		if l.frozen.Load() && err == nil {
			continue // swallowed: the client hears nothing
		}
		if fired := l.drop.Load(); fired != nil && n > 0 {
			l.close()
			close(*fired)
			return
		}
		if h := l.hold.Load(); h != nil && n > 0 {
			h.wait() // HoldReplyTo: this reply and what follows wait for the release
			l.hold.Store(nil)
		}
		if n > 0 {
			if _, werr := l.client.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// readCommand reads one RESP array of bulk strings (a command as clients send it) and returns
// its bytes and its lower-case name.
func readCommand(r *bufio.Reader) ([]byte, string, error) {
	var raw bytes.Buffer
	line, err := readLine(r, &raw)
	if err != nil {
		return nil, "", err
	}
	if len(line) == 0 || line[0] != '*' {
		return nil, "", fmt.Errorf("faultproxy: not a RESP array: %q", line)
	}
	n, err := strconv.Atoi(line[1:])
	if err != nil {
		return nil, "", err
	}
	name := ""
	for i := range n {
		h, err := readLine(r, &raw)
		if err != nil {
			return nil, "", err
		}
		if len(h) == 0 || h[0] != '$' {
			return nil, "", fmt.Errorf("faultproxy: not a bulk string: %q", h)
		}
		size, err := strconv.Atoi(h[1:])
		if err != nil || size < 0 {
			return nil, "", errors.New("faultproxy: bad bulk length")
		}
		arg := make([]byte, size+2)
		if _, err := io.ReadFull(r, arg); err != nil {
			return nil, "", err
		}
		raw.Write(arg)
		if i == 0 {
			name = strings.ToLower(string(arg[:size]))
		}
	}
	return raw.Bytes(), name, nil
}

// readLine reads a CRLF-terminated line into raw and returns it without the CRLF.
func readLine(r *bufio.Reader, raw *bytes.Buffer) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	raw.WriteString(line)
	return strings.TrimRight(line, "\r\n"), nil
}
