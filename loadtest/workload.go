package main

import (
	"context"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/igniter-go/store/client"
)

// record is the JSON value the workload stores.
type record struct {
	ID      string    `json:"id"`
	Counter int       `json:"counter"`
	At      time.Time `json:"at"`
	Payload string    `json:"payload"`
}

// kvWorkload is a KV.Get / KV.Set mix over a fixed key set.
type kvWorkload struct {
	st    *client.Store
	cfg   config
	keys  []string
	value record
}

func newKVWorkload(st *client.Store, cfg config) *kvWorkload {
	keys := make([]string, cfg.keys)
	for i := range keys {
		keys[i] = "user:" + strconv.Itoa(i)
	}
	return &kvWorkload{st: st, cfg: cfg, keys: keys,
		value: record{ID: "u", At: time.Unix(1_700_000_000, 0).UTC(), Payload: strings.Repeat("x", max(cfg.valueSize-60, 0))}}
}

// seed writes every key once so reads hit.
func (w *kvWorkload) seed(ctx context.Context) error {
	const chunk = 500
	for i := 0; i < len(w.keys); i += chunk {
		entries := make([]client.BatchEntry, 0, chunk)
		for _, k := range w.keys[i:min(i+chunk, len(w.keys))] {
			entries = append(entries, client.BatchEntry{Key: k, Value: w.value})
		}
		if err := w.st.Batch.Set(ctx, entries...); err != nil {
			return err
		}
	}
	return nil
}

// step runs one operation and returns its name and error.
func (w *kvWorkload) step(ctx context.Context, rng *rand.Rand) (string, error) {
	key := w.keys[rng.IntN(len(w.keys))]
	if rng.Float64() < w.cfg.reads {
		_, _, err := client.GetAs[record](ctx, w.st.KV, key)
		return "kv.get", err
	}
	v := w.value
	v.Counter = rng.IntN(1 << 20)
	return "kv.set", w.st.KV.Set(ctx, key, v, time.Hour)
}
