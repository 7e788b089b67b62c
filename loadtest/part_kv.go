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
type kvPart struct {
	keys  []string
	value record
}

func (p *kvPart) setup(ctx context.Context, e *env) error {
	p.keys = make([]string, e.cfg.keys)
	for i := range p.keys {
		p.keys[i] = "user:" + itoa(i)
	}
	p.value = record{ID: "u", At: time.Unix(1_700_000_000, 0).UTC(), Payload: strings.Repeat("x", max(e.cfg.valueSize-60, 0))}
	const chunk = 500
	for _, st := range e.st.tenants {
		for i := 0; i < len(p.keys); i += chunk {
			entries := make([]client.Entry, 0, chunk)
			for _, k := range p.keys[i:min(i+chunk, len(p.keys))] {
				entries = append(entries, client.Entry{Key: k, Value: p.value})
			}
			if err := st.Batch.Set(ctx, entries...); err != nil {
				return fmt.Errorf("seeding %d keys: %w", len(p.keys), err)
			}
		}
	}
	return nil
}

func (p *kvPart) stop()                              {}
func (p *kvPart) notes(*env, time.Duration) []string { return nil }

func (p *kvPart) key(e *env, w *drive.Worker) string { return p.keys[e.pickKey(w, len(p.keys))] }

func (p *kvPart) get(ctx context.Context, e *env, w *drive.Worker, st *client.Store) (string, error) {
	_, _, err := client.Get[record](ctx, st.KV, p.key(e, w))
	return "kv.get", err
}

func (p *kvPart) put(ctx context.Context, e *env, w *drive.Worker, st *client.Store) (string, error) {
	v := p.value
	v.Counter = w.Rand.IntN(1 << 20)
	return "kv.set", st.KV.Set(ctx, p.key(e, w), v, time.Hour)
}

func (p *kvPart) batchGet(ctx context.Context, e *env, w *drive.Worker, st *client.Store) (string, error) {
	keys := make([]string, 5)
	for i := range keys {
		keys[i] = p.key(e, w)
	}
	_, err := client.BatchGet[record](ctx, st.Batch, keys...)
	return "batch.get", err
}

func (p *kvPart) batchSet(ctx context.Context, e *env, w *drive.Worker, st *client.Store) (string, error) {
	entries := make([]client.Entry, 5)
	for i := range entries {
		v := p.value
		v.Counter = w.Rand.IntN(1 << 20)
		entries[i] = client.Entry{Key: p.key(e, w), Value: v, TTL: time.Hour}
	}
	return "batch.set", st.Batch.Set(ctx, entries...)
}
