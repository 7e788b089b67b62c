package faultproxy

import "net"

// Listen is [Start] for a program rather than a test (the load harness's long checks): it
// listens on a free loopback port and forwards every connection to target until Close, which
// the caller must call.
func Listen(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln, conns: map[*link]struct{}{}, commands: map[string]int{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}
