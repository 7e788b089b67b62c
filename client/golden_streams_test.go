package client_test

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/igniter-go/store/streams"
)

var streamIDPattern = regexp.MustCompile(`^\d+-\d+$`)

// maskStreamID returns "<id>", as the golden file masks ids, after checking id is one.
func maskStreamID(t *testing.T, id string) string {
	t.Helper()
	if !streamIDPattern.MatchString(id) {
		t.Fatalf("%q is not a stream id", id)
	}
	return "<id>"
}

func maskStreamEntries(t *testing.T, entries []streams.Entry) []streams.Entry {
	out := make([]streams.Entry, len(entries))
	for i, e := range entries {
		e.ID = maskStreamID(t, e.ID)
		out[i] = e
	}
	return out
}

func init() {
	appendTo := func(scoped bool, stream string, msg any, opts streams.AppendOptions) goldenAction {
		return func(ctx context.Context, t *testing.T, env goldenEnv) (any, error) {
			s := env.unscoped
			if scoped {
				s = env.scoped
			}
			id, err := s.Streams.Append(ctx, stream, msg, opts)
			if err != nil {
				return nil, err
			}
			return maskStreamID(t, id), nil
		}
	}
	for name, a := range map[string]goldenAction{
		"streams.append.approx": appendTo(true, "audit", map[string]string{"action": "login"}, streams.AppendOptions{MaxLen: 100, Approximate: true}),
		"streams.append.exact":  appendTo(true, "audit", map[string]string{"action": "logout"}, streams.AppendOptions{MaxLen: 100}),
		"streams.append.plain":  appendTo(false, "plain", "str", streams.AppendOptions{}),
		"streams.range": func(ctx context.Context, t *testing.T, env goldenEnv) (any, error) {
			entries, err := env.scoped.Streams.Range(ctx, "audit", streams.RangeOptions{})
			return maskStreamEntries(t, entries), err
		},
		"streams.range.reverse": func(ctx context.Context, t *testing.T, env goldenEnv) (any, error) {
			entries, err := env.scoped.Streams.Range(ctx, "audit", streams.RangeOptions{Count: 1, Reverse: true})
			return maskStreamEntries(t, entries), err
		},
		"streams.group.ensure": func(ctx context.Context, t *testing.T, env goldenEnv) (any, error) {
			g := env.scoped.Streams.Group("workers", "w1")
			if err := g.Ensure(ctx, "audit", streams.EnsureOptions{}); err != nil {
				return nil, err
			}
			return none(g.Ensure(ctx, "audit", streams.EnsureOptions{}))
		},
		"streams.group.read": func(ctx context.Context, t *testing.T, env goldenEnv) (any, error) {
			entries, err := env.scoped.Streams.Group("workers", "w1").Read(ctx, "audit", streams.ReadOptions{Count: 10})
			if err != nil {
				return nil, err
			}
			msgs := make([]any, len(entries)) // the recorded result lists the messages only
			for i, e := range entries {
				if err := e.Decode(&msgs[i]); err != nil {
					return nil, err
				}
			}
			return msgs, nil
		},
		"streams.group.ack": func(ctx context.Context, t *testing.T, env goldenEnv) (any, error) {
			entries, err := env.scoped.Streams.Range(ctx, "audit", streams.RangeOptions{})
			if err != nil {
				return nil, err
			}
			ids := make([]string, len(entries))
			for i, e := range entries {
				ids[i] = e.ID
			}
			n, err := env.scoped.Streams.Group("workers", "w1").Ack(ctx, "audit", ids...)
			if err == nil && n != int64(len(ids)) {
				err = fmt.Errorf("acked %d of %d", n, len(ids))
			}
			return none(err)
		},
	} {
		goldenActions[name] = a
	}
}
