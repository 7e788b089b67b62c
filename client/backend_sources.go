package client

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"sync"
)

// groupSources gives consume loops the opaque identity of their group instance
// (ops.Signal.Source) and counts the loops of each, so that metrics add up distinct group
// instances (two tenants with the same stream and group names) and drop one when its last loop
// ends. One per core.
type groupSources struct {
	secret [32]byte // keys the hash; random per core, never leaves the process

	mu    sync.Mutex
	loops map[uint64]int
}

func newGroupSources() *groupSources {
	g := &groupSources{loops: map[uint64]int{}}
	_, _ = rand.Read(g.secret[:]) // crypto/rand.Read never fails (Go 1.24+)
	return g
}

// register returns the source of key and group and counts one loop on it.
func (g *groupSources) register(key, group string) (uint64, func() bool) {
	h := hmac.New(sha256.New, g.secret[:])
	h.Write([]byte(key))
	h.Write([]byte{0})
	h.Write([]byte(group))
	src := binary.BigEndian.Uint64(h.Sum(nil))
	if src == 0 {
		src = 1 // 0 means "no source"
	}
	g.mu.Lock()
	g.loops[src]++
	g.mu.Unlock()
	var once sync.Once
	return src, func() (last bool) {
		once.Do(func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			if g.loops[src]--; g.loops[src] <= 0 {
				delete(g.loops, src)
				last = true
			}
		})
		return last
	}
}

func (b backend) GroupSource(key, group string) (uint64, func() bool) {
	return b.s.core.sources.register(key, group)
}
