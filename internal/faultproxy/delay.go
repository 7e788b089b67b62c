package faultproxy

import (
	"strings"
	"sync"
)

// heldReply is one armed HoldReplyTo: the reply to the named command is kept at the proxy until
// released.
type heldReply struct {
	name    string        // lower-case command name
	held    chan struct{} // closed when the reply reached the proxy and is being held
	release chan struct{} // closed by the release func (or Close): the reply goes on
	onceH   sync.Once
	onceR   sync.Once
}

func (h *heldReply) markHeld() { h.onceH.Do(func() { close(h.held) }) }
func (h *heldReply) let()      { h.onceR.Do(func() { close(h.release) }) }
func (h *heldReply) wait()     { h.markHeld(); <-h.release }

// HoldReplyTo arms the proxy once: the next command named name (any case) that any client sends
// through it is written to the server whole, and the server runs it; the next bytes the server
// sends on that connection (its reply, when the client sent one command and waits; see the
// package doc for pipelines), and everything after them, are kept at the proxy until release is
// called. The client sees a slow reply, as after a network delay or a GC pause on the way back.
// held is closed when the reply has reached the proxy and is being held. Calling release more than
// once is harmless; [Proxy.Close] releases every held reply.
func (p *Proxy) HoldReplyTo(name string) (held <-chan struct{}, release func()) {
	h := &heldReply{name: strings.ToLower(name), held: make(chan struct{}), release: make(chan struct{})}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.holdArmed = h
	p.holds = append(p.holds, h)
	return h.held, h.let
}

// armHold returns the armed hold for command name and disarms it; nil when none is armed for
// it. The caller holds p.mu.
func (p *Proxy) armHold(name string) *heldReply {
	h := p.holdArmed
	if h == nil || h.name != name {
		return nil
	}
	p.holdArmed = nil
	return h
}

// releaseHolds lets every held reply go (Close calls it, so no downstream stays blocked).
func (p *Proxy) releaseHolds() {
	p.mu.Lock()
	holds := p.holds
	p.holds = nil
	p.mu.Unlock()
	for _, h := range holds {
		h.let()
	}
}
