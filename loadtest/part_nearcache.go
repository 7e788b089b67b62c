package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/loadtest/internal/drive"
	"github.com/igniter-go/store/loadtest/internal/report"
	"github.com/igniter-go/store/nearcache"
)

// opNearGet is the near-cache read's row in the report.
const opNearGet = "nearcache.get"

// nearPart reads the kv part's keys through a near cache (package nearcache), one per tenant
// store, so a run feeds the near-cache metrics and dashboard panels (hit ratio, invalidations,
// connection losses). Reads pick keys with a Zipf distribution (s = 1.1), as a near cache is
// used for hot keys: most reads are hits answered from memory, and the kv part's KV.Set and
// Batch.Set of the same keys make Redis invalidate them.
//
// A near cache needs CLIENT TRACKING on one Redis node: on a real single-node target (-redis,
// -start-redis, -chaos) it has its own RESP3 client to addr; with addr "" (the embedded
// miniredis, which has no CLIENT TRACKING, or a cluster) it runs with nearcache.Options.Off and
// its reads go through KV, and its note says so.
type nearPart struct {
	kv    *kvPart // whose keys it reads; set up before this part
	addr  string  // the Redis the near caches track; "" for Off
	nears map[*client.Store]*nearcache.Near
	// closed sums the counts of the near caches stop closed: the run stops its parts before it
	// asks for their notes.
	closed nearcache.Stats
}

// nearCacheAddr returns the address a near cache can track on t: its one node when it is a
// real single-node server, "" otherwise (miniredis, cluster).
func (t *target) nearCacheAddr() string {
	switch t.info.Kind {
	case report.TargetRedis, report.TargetStarted:
		if len(t.addrs) == 1 {
			return t.addrs[0]
		}
	}
	return ""
}

func (p *nearPart) setup(_ context.Context, e *env) error {
	if p.kv == nil || len(p.kv.keys) == 0 {
		return errors.New("near cache: the kv part must be set up first")
	}
	p.nears = map[*client.Store]*nearcache.Near{}
	for _, st := range e.st.tenants {
		opts := nearcache.Options{Off: p.addr == ""}
		if !opts.Off {
			opts.Redis = &redis.Options{Addr: p.addr, PoolSize: e.cfg.concurrency + 4}
		}
		n, err := nearcache.New(st, opts)
		if err != nil {
			p.stop()
			return fmt.Errorf("near cache: %w", err)
		}
		p.nears[st] = n
	}
	return nil
}

func (p *nearPart) stop() {
	for st, n := range p.nears {
		addStats(&p.closed, n.Stats())
		_ = n.Close()
		delete(p.nears, st)
	}
}

// addStats adds the counts of s to sum.
func addStats(sum *nearcache.Stats, s nearcache.Stats) {
	sum.Hits += s.Hits
	sum.Misses += s.Misses
	sum.Invalidations += s.Invalidations
	sum.ConnectionLosses += s.ConnectionLosses
	sum.Evicted += s.Evicted
}

// notes sums the near caches' counts, of the closed ones and of any still open. They are
// cumulative from setup, so they include the warm-up; the report's nearcache.get row counts the
// measured reads only.
func (p *nearPart) notes(_ *env, _ time.Duration) []string {
	if p.addr == "" {
		return []string{"near cache: off on this target (the embedded miniredis has no CLIENT TRACKING, a cluster is not supported): nearcache.get reads went through KV.Get"}
	}
	s := p.closed
	for _, n := range p.nears {
		addStats(&s, n.Stats())
	}
	reads := s.Hits + s.Misses
	if reads == 0 {
		return nil
	}
	return []string{fmt.Sprintf("near cache (nearcache package, CLIENT TRACKING): %d of %d reads from memory (%.1f%%), %d invalidations applied, %d connections lost (warm-up included)",
		s.Hits, reads, 100*float64(s.Hits)/float64(reads), s.Invalidations, s.ConnectionLosses)}
}

// get reads a hot kv key of st through st's near cache.
func (p *nearPart) get(ctx context.Context, e *env, w *drive.Worker, st *client.Store) (string, error) {
	var v record
	_, err := p.nears[st].Get(ctx, p.kv.keys[e.zipfKey(w, len(p.kv.keys))], &v)
	return opNearGet, err
}
