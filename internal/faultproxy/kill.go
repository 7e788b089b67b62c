package faultproxy

// KillConnections closes every connection open now, on both sides, as a network fault or a
// restarted load balancer would: a command in flight on one of them may or may not have reached
// the server, and its reply is lost. The proxy keeps accepting; new connections forward as usual.
// It returns how many connections it closed.
func (p *Proxy) KillConnections() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for l := range p.conns {
		l.close()
	}
	return len(p.conns)
}
