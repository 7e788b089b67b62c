package streams_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/streams"
)

// streamEnv is a store with service "api" on a real redis-server, a raw client to read back what
// it wrote, and the server for MONITOR.
type streamEnv struct {
	srv *redistest.Server
	st  *client.Store
	raw *redis.Client
}

func newStreamEnv(t *testing.T, b func(*client.Builder) *client.Builder) streamEnv {
	t.Helper()
	srv := redistest.Start(t)
	builder := client.New().WithService("api").WithAdapter(client.Redis(srv.Client(t)))
	if b != nil {
		builder = b(builder)
	}
	st, err := builder.Build()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return streamEnv{srv: srv, st: st, raw: srv.Client(t)}
}

// newLoggedStreamEnv is newStreamEnv with the store's logger writing to the returned buffer.
func newLoggedStreamEnv(t *testing.T) (streamEnv, *redistest.LogBuffer) {
	t.Helper()
	logs := &redistest.LogBuffer{}
	return newStreamEnv(t, func(b *client.Builder) *client.Builder {
		return b.WithLogger(slog.New(slog.NewTextHandler(logs, nil)))
	}), logs
}

// awaitAfter waits, under a guard, for the consume loop's next handled message, which must be
// "after": the entry appended once the loop had been disrupted (by what). Then it stops the
// loop and checks that it ended cleanly. seen, when not nil, lists what was handled, for the
// failure message.
func awaitAfter(t *testing.T, what string, got <-chan string, stop context.CancelFunc, result <-chan error, seen func() []string) {
	t.Helper()
	select {
	case m := <-got:
		if m != "after" {
			all := ""
			if seen != nil {
				all = fmt.Sprintf(" (all: %q)", seen())
			}
			t.Fatalf("after %s the loop handled %q, want \"after\"%s", what, m, all)
		}
	case <-time.After(20 * time.Second): // a guard, not synchronisation
		t.Fatalf("the loop did not resume after %s", what)
	}
	stop()
	if err := <-result; err != nil {
		t.Fatal(err)
	}
}

const streamKey = "igniter:store:api:streams:"

// commands runs f under MONITOR and returns the store's commands (without handshakes).
func (e streamEnv) commands(t *testing.T, f func()) [][]string {
	t.Helper()
	stop := e.srv.Monitor(t)
	f()
	var out [][]string
	for _, c := range stop() {
		if !redistest.Ignored(c) {
			out = append(out, c)
		}
	}
	return out
}

func wantStreamCommands(t *testing.T, got [][]string, want ...[]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("commands:\n got %q\nwant %q", got, want)
	}
	for i := range want {
		if !redistest.SameCommand(want[i], got[i]) {
			t.Fatalf("command %d:\n got %q\nwant %q", i, got[i], want[i])
		}
	}
}

func TestStreamsAppendOnRealRedis(t *testing.T) {
	e := newStreamEnv(t, nil)
	ctx := context.Background()
	var id string
	cmds := e.commands(t, func() {
		var err error
		id, err = e.st.Streams.Append(ctx, "orders", map[string]any{"n": 1, "html": "<b>"}, streams.AppendOptions{})
		if err != nil {
			t.Fatal(err)
		}
	})
	wantStreamCommands(t, cmds, []string{"xadd", streamKey + "orders", "*", "data", `{"html":"<b>","n":1}`})
	raw, err := e.raw.XRange(ctx, streamKey+"orders", "-", "+").Result()
	if err != nil || len(raw) != 1 || raw[0].ID != id || !reflect.DeepEqual(raw[0].Values, map[string]any{"data": `{"html":"<b>","n":1}`}) {
		t.Fatalf("stored %v %v, want one entry %s with data only", raw, err, id)
	}

	for i := range 5 {
		if _, err := e.st.Streams.Append(ctx, "capped", i, streams.AppendOptions{MaxLen: 3}); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.raw.XLen(ctx, streamKey+"capped").Val(); n != 3 {
		t.Fatalf("MAXLEN 3 kept %d entries", n)
	}
	cmds = e.commands(t, func() {
		_, _ = e.st.Streams.Append(ctx, "capped", 5, streams.AppendOptions{MaxLen: 3, Approximate: true})
		_, _ = e.st.Streams.Append(ctx, "capped", 6, streams.AppendOptions{Approximate: true}) // ignored without MaxLen
	})
	wantStreamCommands(t, cmds,
		[]string{"xadd", streamKey + "capped", "MAXLEN", "~", "3", "*", "data", "5"},
		[]string{"xadd", streamKey + "capped", "*", "data", "6"})

	if _, err := e.st.Streams.Append(ctx, "x", func() {}, streams.AppendOptions{}); !ops.HasCode(err, ops.CodeSerializationFailed) {
		t.Fatalf("unencodable message: %v", err)
	}
	if _, err := e.st.Streams.Append(ctx, "x", 1, streams.AppendOptions{MaxLen: -1}); !errors.Is(err, ops.ErrInvalid) {
		t.Fatalf("negative MaxLen: %v", err)
	}
}

func TestStreamsRangeOnRealRedis(t *testing.T) {
	e := newStreamEnv(t, nil)
	ctx := context.Background()
	var ids []string
	for i := range 4 {
		id, err := e.st.Streams.Append(ctx, "r", map[string]int{"i": i}, streams.AppendOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	var fwd, rev, missing []streams.Entry
	cmds := e.commands(t, func() {
		fwd, _ = e.st.Streams.Range(ctx, "r", streams.RangeOptions{Start: ids[1], Count: 2})
		rev, _ = e.st.Streams.Range(ctx, "r", streams.RangeOptions{Start: ids[1], End: ids[3], Reverse: true})
		missing, _ = e.st.Streams.Range(ctx, "nope", streams.RangeOptions{})
	})
	wantStreamCommands(t, cmds,
		[]string{"xrange", streamKey + "r", ids[1], "+", "COUNT", "2"},
		[]string{"xrevrange", streamKey + "r", ids[3], ids[1]},
		[]string{"xrange", streamKey + "nope", "-", "+"})
	if got := streamEntryIDs(fwd); !reflect.DeepEqual(got, ids[1:3]) {
		t.Fatalf("forward ids %v, want %v", got, ids[1:3])
	}
	if got := streamEntryIDs(rev); !reflect.DeepEqual(got, []string{ids[3], ids[2], ids[1]}) {
		t.Fatalf("reverse ids %v", got)
	}
	if string(fwd[0].Message) != `{"i":1}` {
		t.Fatalf("message %s", fwd[0].Message)
	}
	if missing == nil || len(missing) != 0 {
		t.Fatalf("missing stream: %#v, want an empty list", missing)
	}
	b, _ := json.Marshal(missing)
	if string(b) != "[]" {
		t.Fatalf("missing stream marshals as %s, the original returns []", b)
	}
	typed, err := streams.RangeAs[struct{ I int }](ctx, e.st.Streams, "r", streams.RangeOptions{})
	if err != nil || len(typed) != 4 || typed[3].Message.I != 3 || typed[3].ID != ids[3] {
		t.Fatalf("RangeAs: %+v %v", typed, err)
	}
}

// TestStreamEntriesParseAsTheOriginal writes entries with a raw client, as any producer could,
// and reads them back through the store (spec §7).
func TestStreamEntriesParseAsTheOriginal(t *testing.T) {
	e := newStreamEnv(t, nil)
	ctx := context.Background()
	key := streamKey + "mixed"
	for _, fields := range [][]any{
		{"data", `{"a":1}`},
		{"data", "notjson"},
		{"foo", "bar", "n", "1"},
		{"data", "", "x", "y"},
		{"data", "42", "trace", "t"},
	} {
		if err := e.raw.XAdd(ctx, &redis.XAddArgs{Stream: key, Values: fields}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := e.st.Streams.Range(ctx, "mixed", streams.RangeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`{"a":1}`, `{"data":"notjson"}`, `{"foo":"bar","n":"1"}`, `{"data":"","x":"y"}`, `42`}
	for i, w := range want {
		if string(entries[i].Message) != w {
			t.Errorf("entry %d: message %s, want %s", i, entries[i].Message, w)
		}
	}
	typed, err := streams.RangeAs[map[string]int](ctx, e.st.Streams, "mixed", streams.RangeOptions{})
	if !ops.HasCode(err, ops.CodeDeserializationFailed) || len(typed) != 5 || typed[0].Message["a"] != 1 || typed[1].Err == nil {
		t.Fatalf("RangeAs with undecodable entries: %+v %v", typed, err)
	}
}

func TestStreamGroupsOnRealRedis(t *testing.T) {
	e := newStreamEnv(t, nil)
	ctx := context.Background()
	key := streamKey + "jobs"
	g := e.st.Streams.Group("workers", "w1")

	// Read before the group exists: NOGROUP, coded, wrapping the reply.
	_, err := g.Read(ctx, "jobs", streams.ReadOptions{})
	var reply redis.Error
	if !ops.HasCode(err, ops.CodeStreamReadFailed) || !errors.Is(err, ops.ErrFailed) || !errors.As(err, &reply) ||
		!strings.HasPrefix(reply.Error(), "NOGROUP") {
		t.Fatalf("read without a group: %v", err)
	}

	cmds := e.commands(t, func() {
		if err := g.Ensure(ctx, "jobs", streams.EnsureOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := g.Ensure(ctx, "jobs", streams.EnsureOptions{StartID: "$"}); err != nil {
			t.Fatalf("second ensure (BUSYGROUP) is not an error: %v", err)
		}
	})
	wantStreamCommands(t, cmds,
		[]string{"xgroup", "CREATE", key, "workers", "0", "MKSTREAM"},
		[]string{"xgroup", "CREATE", key, "workers", "$", "MKSTREAM"})
	groups := e.raw.XInfoGroups(ctx, key).Val()
	if len(groups) != 1 || groups[0].LastDeliveredID != "0-0" {
		t.Fatalf("groups %+v: ensure must keep the existing group's start id", groups)
	}
	if err := g.Ensure(ctx, "jobs2", streams.EnsureOptions{StartID: "bad"}); !ops.HasCode(err, ops.CodeStreamGroupCreateFailed) {
		t.Fatalf("ensure with a bad id: %v", err)
	}

	var ids []string
	for i := range 3 {
		id, _ := e.st.Streams.Append(ctx, "jobs", i, streams.AppendOptions{})
		ids = append(ids, id)
	}
	var first, rest, none []streams.Entry
	cmds = e.commands(t, func() {
		first, _ = g.Read(ctx, "jobs", streams.ReadOptions{Count: 2})
		rest, _ = g.Read(ctx, "jobs", streams.ReadOptions{})
		none, _ = g.Read(ctx, "jobs", streams.ReadOptions{Block: 20 * time.Millisecond})
	})
	wantStreamCommands(t, cmds,
		[]string{"xreadgroup", "GROUP", "workers", "w1", "COUNT", "2", "STREAMS", key, ">"},
		[]string{"xreadgroup", "GROUP", "workers", "w1", "STREAMS", key, ">"},
		[]string{"xreadgroup", "GROUP", "workers", "w1", "block", "20", "STREAMS", key, ">"})
	if got := append(streamEntryIDs(first), streamEntryIDs(rest)...); !reflect.DeepEqual(got, ids) || len(none) != 0 {
		t.Fatalf("read %v then %v, want %v then nothing", got, none, ids)
	}
	if p := e.raw.XPending(ctx, key, "workers").Val(); p.Count != 3 || p.Consumers["w1"] != 3 {
		t.Fatalf("pending after read: %+v", p)
	}
	lag, err := g.Lag(ctx, "jobs")
	if err != nil || lag != (streams.GroupLag{Lag: 0, Pending: 3}) {
		t.Fatalf("lag %+v %v", lag, err)
	}

	var n int64
	cmds = e.commands(t, func() {
		n, err = g.Ack(ctx, "jobs", ids[0], ids[1])
		_, _ = g.Ack(ctx, "jobs") // no ids: nothing sent
	})
	wantStreamCommands(t, cmds, []string{"xack", key, "workers", ids[0], ids[1]})
	if err != nil || n != 2 || e.raw.XPending(ctx, key, "workers").Val().Count != 1 {
		t.Fatalf("ack: %d %v", n, err)
	}
	if n, err := e.st.Streams.Group("nogroup", "w").Ack(ctx, "jobs", ids[2]); n != 0 || err != nil {
		t.Fatalf("ack on an unknown group: %d %v (Redis answers 0)", n, err)
	}
	typed, err := streams.ReadAs[int](ctx, g, "jobs", streams.ReadOptions{})
	if err != nil || len(typed) != 0 {
		t.Fatalf("ReadAs on nothing new: %v %v", typed, err)
	}
}

func TestStreamNamesAreRequiredBeforeAnyCall(t *testing.T) {
	e := newStreamEnv(t, nil)
	ctx := context.Background()
	s := e.st.Streams
	cmds := e.commands(t, func() {
		for _, c := range []struct {
			err  error
			code ops.Code
		}{
			{streamErr(s.Append(ctx, "", 1, streams.AppendOptions{})), ops.CodeStreamNameRequired},
			{streamErr(s.Range(ctx, "", streams.RangeOptions{})), ops.CodeStreamNameRequired},
			{s.Group("g", "c").Ensure(ctx, "", streams.EnsureOptions{}), ops.CodeStreamNameRequired},
			{s.Group("", "c").Ensure(ctx, "x", streams.EnsureOptions{}), ops.CodeStreamGroupRequired},
			{streamErr(s.Group("", "c").Read(ctx, "x", streams.ReadOptions{})), ops.CodeStreamGroupRequired},
			{streamErr(s.Group("g", "").Read(ctx, "x", streams.ReadOptions{})), ops.CodeStreamConsumerRequired},
			{streamErr(s.Group("", "c").Ack(ctx, "x", "1-0")), ops.CodeStreamGroupRequired},
			{streamErr(s.Group("g", "c").Lag(ctx, "")), ops.CodeStreamNameRequired},
			{s.Group("g", "").Consume(ctx, "x", func(context.Context, streams.Entry) error { return nil }, streams.ConsumeOptions{}), ops.CodeStreamConsumerRequired},
		} {
			if !ops.HasCode(c.err, c.code) || !errors.Is(c.err, ops.ErrInvalid) {
				t.Errorf("got %v, want %s", c.err, c.code)
			}
		}
	})
	if len(cmds) != 0 {
		t.Fatalf("bad names reached Redis: %q", cmds)
	}
}

func streamErr[T any](_ T, err error) error { return err }

func streamEntryIDs(entries []streams.Entry) []string {
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.ID
	}
	return ids
}

// TestBlockingReadDoesNotHoldUpOtherOps: the original runs XREADGROUP BLOCK on its only command
// connection, so a kv.get waits for the read (spec §7). Here the Get returns while the read
// still blocks.
func TestBlockingReadDoesNotHoldUpOtherOps(t *testing.T) {
	e := newStreamEnv(t, nil)
	ctx := context.Background()
	g := e.st.Streams.Group("g", "c")
	if err := g.Ensure(ctx, "idle", streams.EnsureOptions{}); err != nil {
		t.Fatal(err)
	}
	readDone := make(chan error, 1)
	go func() {
		entries, err := g.Read(ctx, "idle", streams.ReadOptions{Block: 2 * time.Second})
		if err == nil && len(entries) != 0 {
			err = errors.New("the idle stream returned entries")
		}
		readDone <- err
	}()
	waitStreamBlocked(t, e.raw, 1)
	var v string
	if _, err := e.st.KV.Get(ctx, "k", &v); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-readDone:
		t.Fatalf("the blocking read ended (%v) before the Get returned", err)
	default: // the Get returned first
	}
	if err := <-readDone; err != nil {
		t.Fatal(err)
	}
}

// waitStreamBlocked waits until the server reports n clients blocked in a command.
func waitStreamBlocked(t *testing.T, raw *redis.Client, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := streamBlockedClients(t, raw)
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d clients blocked, want %d", got, n)
		}
		time.Sleep(time.Millisecond) // polling the server's state: there is no signal to wait on
	}
}

func TestStreamClaimAndPendingOnRealRedis(t *testing.T) {
	e := newStreamEnv(t, nil)
	ctx := context.Background()
	key := streamKey + "jobs"
	w1, w2 := e.st.Streams.Group("g", "w1"), e.st.Streams.Group("g", "w2")
	if err := w1.Ensure(ctx, "jobs", streams.EnsureOptions{}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		_, _ = e.st.Streams.Append(ctx, "jobs", i, streams.AppendOptions{})
	}
	read, err := w1.Read(ctx, "jobs", streams.ReadOptions{})
	if err != nil || len(read) != 2 {
		t.Fatalf("read %v %v", read, err)
	}
	pending, err := w2.Pending(ctx, "jobs", 0)
	if err != nil || len(pending) != 2 || pending[0] != (streams.PendingEntry{ID: read[0].ID, Consumer: "w1", Deliveries: 1}) {
		t.Fatalf("pending %+v %v", pending, err)
	}
	none, next, err := w2.Claim(ctx, "jobs", streams.ClaimOptions{MinIdle: time.Hour})
	if err != nil || len(none) != 0 || next != "0-0" {
		t.Fatalf("claim of entries idle for an hour: %v %q %v", none, next, err)
	}
	var claimed []streams.Entry
	cmds := e.commands(t, func() {
		claimed, next, err = w2.Claim(ctx, "jobs", streams.ClaimOptions{Count: 10})
	})
	wantStreamCommands(t, cmds, []string{"xautoclaim", key, "g", "w2", "0", "0-0", "count", "10"})
	if err != nil || len(claimed) != 2 || claimed[1].ID != read[1].ID || string(claimed[1].Message) != "1" || next != "0-0" {
		t.Fatalf("claim: %+v %q %v", claimed, next, err)
	}
	raw := e.raw.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: key, Group: "g", Start: "-", End: "+", Count: 10}).Val()
	if len(raw) != 2 || raw[0].Consumer != "w2" || raw[0].RetryCount != 2 {
		t.Fatalf("raw pending after the claim: %+v", raw)
	}
	if _, _, err := w2.Claim(ctx, "jobs", streams.ClaimOptions{MinIdle: -1}); !errors.Is(err, ops.ErrInvalid) {
		t.Fatalf("negative MinIdle: %v", err)
	}
	if _, _, err := e.st.Streams.Group("g", "").Claim(ctx, "jobs", streams.ClaimOptions{}); !ops.HasCode(err, ops.CodeStreamConsumerRequired) {
		t.Fatalf("claim without a consumer: %v", err)
	}
}
