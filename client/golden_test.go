package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
)

// The golden file holds 36 cases recorded from @igniter-js/store 0.1.26 on a real redis-server:
// the commands it sent (as MONITOR prints them), its result and the raw data it left. Each case
// with a Go action below is replayed, in order, against a real redis-server, and must send the
// same commands, return the same result and leave the same bytes.

type goldenFile struct {
	Cases []goldenCase `json:"cases"`
}

type goldenCase struct {
	Name      string                              `json:"name"`
	Result    json.RawMessage                     `json:"result"`
	Error     *struct{ Code string }              `json:"error"`
	Commands  [][]string                          `json:"commands"`
	Published []struct{ Channel, Message string } `json:"published"`
	After     map[string]goldenAfter              `json:"after"`
}

type goldenAfter struct {
	Type  string `json:"type"`
	Value string `json:"value"`
	TTL   int64  `json:"ttl"`
}

// goldenEnv is what a golden action runs against.
type goldenEnv struct {
	unscoped *client.Store // service "api"
	scoped   *client.Store // organization=org_1, workspace=ws_2
	raw      *redis.Client
}

// goldenAction runs one case and returns its result (compared as JSON to the golden result) and
// error (compared by code).
type goldenAction func(ctx context.Context, t *testing.T, env goldenEnv) (any, error)

// goldenActions maps case names to Go actions. Feature files register theirs in init.
var goldenActions = map[string]goldenAction{}

// goldenUnordered are the cases whose result lists are compared as sets (SCAN order is the
// server's hash-table order, which depends on every key the server holds).
var goldenUnordered = map[string]bool{}

// goldenFirstCommandOnly are the cases whose action continues past the recorded command (a scan
// run to its end); only their first command is compared.
var goldenFirstCommandOnly = map[string]bool{}

func firstOperationCommand(cmds [][]string) [][]string {
	for _, c := range cmds {
		if !redistest.Ignored(c) {
			return [][]string{c}
		}
	}
	return nil
}

func sortLists(v any) any {
	switch t := v.(type) {
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = sortLists(e)
		}
		sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
		return out
	case map[string]any:
		out := map[string]any{}
		for k, e := range t {
			out[k] = sortLists(e)
		}
		return out
	}
	return v
}

func loadGolden(t *testing.T) []goldenCase {
	data, err := os.ReadFile("testdata/igniter-ts-golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var f goldenFile
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return f.Cases
}

func TestGoldenAgainstTheOriginal(t *testing.T) {
	srv := redistest.Start(t)
	raw := srv.Client(t)
	st, err := client.New().WithService("api").WithAdapter(client.Redis(srv.Client(t))).Build()
	if err != nil {
		t.Fatal(err)
	}
	env := goldenEnv{unscoped: st, scoped: st.MustScope("organization", "org_1").MustScope("workspace", "ws_2"), raw: raw}
	ctx := context.Background()
	// Warm the store's connection so its handshake is not inside a case.
	_, _ = st.KV.Exists(ctx, "warm")
	ran := 0
	for _, c := range loadGolden(t) {
		action, ok := goldenActions[c.Name]
		if !ok {
			continue
		}
		ran++
		t.Run(c.Name, func(t *testing.T) {
			checkPublished := watchPublished(t, raw, c)
			stop := srv.Monitor(t)
			got, err := action(ctx, t, env)
			cmds := stop()
			checkPublished()
			checkGoldenError(t, c, err)
			if goldenFirstCommandOnly[c.Name] && len(cmds) > 1 {
				cmds = firstOperationCommand(cmds)
			}
			checkGoldenCommands(t, c.Commands, cmds)
			if c.Error == nil {
				checkGoldenResult(t, c.Result, got, goldenUnordered[c.Name])
			}
			for key, want := range c.After {
				checkGoldenAfter(t, raw, key, want)
			}
		})
	}
	if ran == 0 {
		t.Fatal("no golden case has an action")
	}
	t.Logf("replayed %d golden cases", ran)
}

func checkGoldenError(t *testing.T, c goldenCase, err error) {
	t.Helper()
	switch {
	case c.Error == nil && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case c.Error != nil && (err == nil || !strings.Contains(err.Error(), c.Error.Code)):
		t.Fatalf("error = %v, want code %s", err, c.Error.Code)
	}
}

func checkGoldenCommands(t *testing.T, want, got [][]string) {
	t.Helper()
	var filtered [][]string
	for _, c := range got {
		if !redistest.Ignored(c) {
			filtered = append(filtered, c)
		}
	}
	if len(filtered) != len(want) {
		t.Fatalf("commands:\n got %q\nwant %q", filtered, want)
	}
	for i := range want {
		if !redistest.SameCommand(want[i], filtered[i]) {
			t.Fatalf("command %d:\n got %q\nwant %q", i, filtered[i], want[i])
		}
	}
}

func checkGoldenResult(t *testing.T, want json.RawMessage, got any, unordered bool) {
	t.Helper()
	gotJSON, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var w, g any
	_ = json.Unmarshal(want, &w)
	_ = json.Unmarshal(gotJSON, &g)
	if unordered {
		w, g = sortLists(w), sortLists(g)
	}
	if !reflect.DeepEqual(w, g) {
		t.Fatalf("result = %s, want %s", gotJSON, want)
	}
}

func checkGoldenAfter(t *testing.T, raw *redis.Client, key string, want goldenAfter) {
	t.Helper()
	ctx := context.Background()
	typ := raw.Type(ctx, key).Val()
	if typ != want.Type {
		t.Fatalf("%s: type %s, want %s", key, typ, want.Type)
	}
	if want.Type != "string" {
		return
	}
	if v := raw.Get(ctx, key).Val(); v != want.Value {
		t.Fatalf("%s: stored %q, want %q", key, v, want.Value)
	}
	ttl, _ := raw.Do(ctx, "TTL", key).Int64()
	if want.TTL < 0 && ttl >= 0 || want.TTL > 0 && (ttl <= 0 || ttl > want.TTL) {
		t.Fatalf("%s: ttl %d, want %d", key, ttl, want.TTL)
	}
}
