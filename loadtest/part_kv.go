package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/loadtest/internal/drive"
)

// record is the JSON value the kv operations store.
type record struct {
	ID      string    `json:"id"`
	Counter int       `json:"counter"`
	At      time.Time `json:"at"`
	Payload string    `json:"payload"`
}

// kvPart is KV.Get / KV.Set / Batch over -keys keys per tenant, seeded so reads hit.
//
// On a cluster a batch must stay in one hash slot, so the keys carry one of clusterTags hash
// tags ("{k7}user:42", key i in group i mod clusterTags) and a batch takes keys of one group.
type kvPart struct {
	keys  []string
	tags  int // hash-tag groups; 1 = no tags
	value record
}

const clusterTags = 64

func (p *kvPart) setup(ctx context.Context, e *env) error {
	p.tags = 1
	if len(e.cfg.clusterAddrs) > 0 {
		p.tags = min(clusterTags, e.cfg.keys)
	}
	p.keys = make([]string, e.cfg.keys)
	for i := range p.keys {
		p.keys[i] = "user:" + itoa(i)
		if p.tags > 1 {
			p.keys[i] = "{k" + itoa(i%p.tags) + "}" + p.keys[i]
		}
	}
	p.value = record{ID: "u", At: time.Unix(1_700_000_000, 0).UTC(), Payload: strings.Repeat("x", max(e.cfg.valueSize-60, 0))}
	const chunk = 500
	for _, st := range e.st.tenants {
		for g := range p.tags {
			var entries []client.BatchEntry
			for i := g; i < len(p.keys); i += p.tags {
				entries = append(entries, client.BatchEntry{Key: p.keys[i], Value: p.value})
				if len(entries) == chunk || i+p.tags >= len(p.keys) {
					if err := st.Batch.Set(ctx, entries...); err != nil {
						return fmt.Errorf("seeding %d keys: %w", len(p.keys), err)
					}
					entries = entries[:0]
				}
			}
		}
	}
	return nil
}

// batchKeys returns n keys of one hash-tag group.
func (p *kvPart) batchKeys(e *env, w *drive.Worker, n int) []string {
	first := e.pickKey(w, len(p.keys))
	keys := []string{p.keys[first]}
	perGroup := (len(p.keys) - first%p.tags + p.tags - 1) / p.tags // keys in first's group
	for len(keys) < n {
		keys = append(keys, p.keys[first%p.tags+p.tags*w.Rand.IntN(perGroup)])
	}
	return keys
}

func (p *kvPart) stop()                              {}
func (p *kvPart) notes(*env, time.Duration) []string { return nil }

func (p *kvPart) key(e *env, w *drive.Worker) string { return p.keys[e.pickKey(w, len(p.keys))] }

func (p *kvPart) get(ctx context.Context, e *env, w *drive.Worker, st *client.Store) (string, error) {
	_, _, err := client.GetAs[record](ctx, st.KV, p.key(e, w))
	return "kv.get", err
}

func (p *kvPart) put(ctx context.Context, e *env, w *drive.Worker, st *client.Store) (string, error) {
	v := p.value
	v.Counter = w.Rand.IntN(1 << 20)
	return "kv.set", st.KV.Set(ctx, p.key(e, w), v, time.Hour)
}

func (p *kvPart) batchGet(ctx context.Context, e *env, w *drive.Worker, st *client.Store) (string, error) {
	_, err := client.BatchGetAs[record](ctx, st.Batch, p.batchKeys(e, w, 5)...)
	return "batch.get", err
}

func (p *kvPart) batchSet(ctx context.Context, e *env, w *drive.Worker, st *client.Store) (string, error) {
	entries := make([]client.BatchEntry, 0, 5)
	for _, k := range p.batchKeys(e, w, 5) {
		v := p.value
		v.Counter = w.Rand.IntN(1 << 20)
		entries = append(entries, client.BatchEntry{Key: k, Value: v, TTL: time.Hour})
	}
	return "batch.set", st.Batch.Set(ctx, entries...)
}
