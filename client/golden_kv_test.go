package client_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/igniter-go/store/client"
)

// avery is the object of the kv.set.object.ttl case, with its field order.
type avery struct {
	Name string  `json:"name"`
	HTML string  `json:"html"`
	Uni  string  `json:"uni"`
	N    float64 `json:"n"`
	List []any   `json:"list"`
}

func kvGet(s *client.Store, key string) goldenAction {
	return func(ctx context.Context, t *testing.T, env goldenEnv) (any, error) {
		var v any
		_, err := s.KV.Get(ctx, key, &v)
		return v, err
	}
}

func none(err error) (any, error) { return nil, err }

func init() {
	set := func(key string, v any, ttl time.Duration) goldenAction {
		return func(ctx context.Context, t *testing.T, env goldenEnv) (any, error) {
			return none(env.unscoped.KV.Set(ctx, key, v, ttl))
		}
	}
	for name, a := range map[string]goldenAction{
		"kv.set.object.ttl": func(ctx context.Context, t *testing.T, env goldenEnv) (any, error) {
			return none(env.scoped.KV.Set(ctx, "user:1", avery{"Avery", "<b>&</b>", "ção✓", 1.5, []any{1, "a", nil}}, 60*time.Second))
		},
		"kv.get.object": func(ctx context.Context, t *testing.T, env goldenEnv) (any, error) {
			return kvGet(env.scoped, "user:1")(ctx, t, env)
		},
		"kv.set.string": set("s", "plain", 0),
		"kv.set.number": set("n", 42, 0),
		"kv.set.null":   set("z", nil, 0),
		"kv.set.ttl0":   set("t0", "v", 0),
		"kv.get.raw": func(ctx context.Context, t *testing.T, env goldenEnv) (any, error) {
			if err := env.raw.Set(ctx, "igniter:store:api:kv:raw", "not json", 0).Err(); err != nil {
				t.Fatal(err)
			}
			return kvGet(env.unscoped, "raw")(ctx, t, env)
		},
		"kv.get.missing": func(ctx context.Context, t *testing.T, env goldenEnv) (any, error) {
			return kvGet(env.unscoped, "missing")(ctx, t, env)
		},
		"kv.exists": func(ctx context.Context, t *testing.T, env goldenEnv) (any, error) {
			return env.unscoped.KV.Exists(ctx, "s")
		},
		"kv.expire": func(ctx context.Context, t *testing.T, env goldenEnv) (any, error) {
			return none(env.unscoped.KV.Expire(ctx, "s", 900*time.Second))
		},
		"kv.touch": func(ctx context.Context, t *testing.T, env goldenEnv) (any, error) {
			return none(env.unscoped.KV.Touch(ctx, "s", 30*time.Second))
		},
		"kv.remove": func(ctx context.Context, t *testing.T, env goldenEnv) (any, error) {
			return none(env.unscoped.KV.Remove(ctx, "s"))
		},
		"kv.numeric-scope": func(ctx context.Context, t *testing.T, env goldenEnv) (any, error) {
			return none(env.unscoped.MustScope("user", strconv.Itoa(42)).KV.Set(ctx, "profile", map[string]int{"p": 1}, 0))
		},
		"counter.increment": func(ctx context.Context, t *testing.T, env goldenEnv) (any, error) {
			if _, err := env.scoped.Counter.Increment(ctx, "views"); err != nil {
				return nil, err
			}
			return env.scoped.Counter.Increment(ctx, "views")
		},
		"counter.decrement": func(ctx context.Context, t *testing.T, env goldenEnv) (any, error) {
			return env.scoped.Counter.Decrement(ctx, "views")
		},
		"counter.expire": func(ctx context.Context, t *testing.T, env goldenEnv) (any, error) {
			return none(env.scoped.Counter.Expire(ctx, "views", time.Minute))
		},
		"claim.once.ttl": func(ctx context.Context, t *testing.T, env goldenEnv) (any, error) {
			return env.scoped.Claim.Once(ctx, "job:sync", "worker-1", 30*time.Second)
		},
		"claim.once.taken": func(ctx context.Context, t *testing.T, env goldenEnv) (any, error) {
			return env.scoped.Claim.Once(ctx, "job:sync", "worker-2", 30*time.Second)
		},
		"claim.once.nottl": func(ctx context.Context, t *testing.T, env goldenEnv) (any, error) {
			return env.unscoped.Claim.Once(ctx, "job:2", "w1", 0)
		},
		"batch.set.mixed": func(ctx context.Context, t *testing.T, env goldenEnv) (any, error) {
			return none(env.unscoped.Batch.Set(ctx,
				client.BatchEntry{Key: "b1", Value: 1},
				client.BatchEntry{Key: "b2", Value: map[string]int{"two": 2}, TTL: 100 * time.Second},
				client.BatchEntry{Key: "b3", Value: "three"}))
		},
		"batch.get": func(ctx context.Context, t *testing.T, env goldenEnv) (any, error) {
			items, err := env.unscoped.Batch.Get(ctx, "b3", "missing", "b1", "b3")
			out := make([]any, len(items))
			for i, it := range items {
				out[i] = it.Value
			}
			return out, err
		},
		"dev.scan.scoped": func(ctx context.Context, t *testing.T, env goldenEnv) (any, error) {
			// The original's first page (cursor 11) happened to hold the one key; which page holds
			// it depends on the server's table, so the scan runs to its end here.
			page, err := env.scoped.Dev.Scan(ctx, "user:*", client.ScanOptions{})
			if err != nil {
				return nil, err
			}
			for page.Cursor != "0" {
				next, err := env.scoped.Dev.Scan(ctx, "user:*", client.ScanOptions{Cursor: page.Cursor})
				if err != nil {
					return nil, err
				}
				page = client.ScanPage{Cursor: next.Cursor, Keys: append(page.Keys, next.Keys...)}
			}
			return scanResult(env.scoped, page, "11"), nil
		},
		"dev.scan.count": func(ctx context.Context, t *testing.T, env goldenEnv) (any, error) {
			page, err := env.unscoped.Dev.Scan(ctx, "*", client.ScanOptions{Count: 1000})
			return scanResult(env.unscoped, page, ""), err
		},
	} {
		goldenActions[name] = a
	}
	goldenUnordered["dev.scan.count"] = true
	goldenFirstCommandOnly["dev.scan.scoped"] = true
}

// scanResult rebuilds the original's {cursor, keys} shape with full keys. A cursor other than 0
// depends on the server's table, so wantCursor, when given, stands in for it.
func scanResult(s *client.Store, page client.ScanPage, wantCursor string) map[string]any {
	keys := make([]any, len(page.Keys))
	for i, k := range page.Keys {
		keys[i] = s.Prefix() + ":kv:" + k
	}
	cursor := page.Cursor
	if wantCursor != "" {
		cursor = wantCursor
	}
	return map[string]any{"cursor": cursor, "keys": keys}
}
