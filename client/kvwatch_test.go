package client_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/faultproxy"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/storetest"
)

// kvWatchLog records what a client.KVWriteWatcher is told, with the key's value in Redis at
// that moment (read from miniredis directly), so the log shows whether the write had run.
type kvWatchLog struct {
	srv    *miniredis.Miniredis
	events []string
}

func (l *kvWatchLog) value(key string) string {
	v, err := l.srv.Get(key)
	if err != nil {
		return "absent"
	}
	return v
}

func (l *kvWatchLog) BeginKVWrite(key string) {
	l.events = append(l.events, fmt.Sprintf("begin %s (%s)", key, l.value(key)))
}

func (l *kvWatchLog) EndKVWrite(key string, err error) {
	outcome := "ok"
	if err != nil {
		outcome = string(ops.CodeOf(err))
	}
	l.events = append(l.events, fmt.Sprintf("end %s %s (%s)", key, outcome, l.value(key)))
}

// WatchKVWrites tells a watcher of each kv write before it is sent (the key still holds its old
// value) and after Redis answered (the new value), with the write's error; from scoped stores of
// the same Build and for each key of a batch; also when the write failed; not for reads or other
// namespaces; and stop ends it.
func TestWatchKVWritesSeesEveryWriteBeginAndEndUntilStopped(t *testing.T) {
	st := storetest.New(t, storetest.WithBuilder(func(b *client.Builder) *client.Builder {
		return b.AddScope("tenant")
	}))
	ctx := context.Background()
	log := &kvWatchLog{srv: st.Redis}
	stop := st.WatchKVWrites(log)

	if err := st.KV.Set(ctx, "a", 1, 0); err != nil {
		t.Fatal(err)
	}
	org, err := st.Scope("tenant", "t1")
	if err != nil {
		t.Fatal(err)
	}
	if err := org.KV.Set(ctx, "b", 2, 0); err != nil {
		t.Fatal(err)
	}
	if err := st.Batch.Set(ctx, client.BatchEntry{Key: "a", Value: 3}, client.BatchEntry{Key: "c", Value: 4}); err != nil {
		t.Fatal(err)
	}
	var v int
	if _, err := st.KV.Get(ctx, "a", &v); err != nil { // a read: not told
		t.Fatal(err)
	}
	if _, err := st.Counter.Increment(ctx, "n"); err != nil { // another namespace: not told
		t.Fatal(err)
	}
	st.Redis.SetError("ERR injected")
	if err := st.KV.Set(ctx, "d", 5, time.Minute); err == nil || errors.Is(err, ops.ErrInvalid) {
		t.Fatalf("Set on a failing server: %v, want a failure from Redis", err)
	}
	st.Redis.SetError("")
	const a, b, c, d = "igniter:store:test:kv:a", "igniter:store:test:tenant:t1:kv:b", "igniter:store:test:kv:c", "igniter:store:test:kv:d"
	want := []string{
		"begin " + a + " (absent)", "end " + a + " ok (1)",
		"begin " + b + " (absent)", "end " + b + " ok (2)",
		"begin " + a + " (1)", "begin " + c + " (absent)", "end " + a + " ok (3)", "end " + c + " ok (4)",
		"begin " + d + " (absent)", "end " + d + " STORE_SET_FAILED (absent)",
	}
	if !slices.Equal(log.events, want) {
		t.Fatalf("watched:\n%q\nwant:\n%q", log.events, want)
	}

	stop()
	if err := st.KV.Set(ctx, "e", 1, 0); err != nil {
		t.Fatal(err)
	}
	if len(log.events) != len(want) {
		t.Fatalf("watched %q after stop", log.events[len(want):])
	}
}

// A middleware that panics during a kv write still ends it for the watchers (with
// STORE_OUTCOME_UNKNOWN: it may have been applied), and the panic reaches the caller: a watcher
// (the near cache) never keeps a key marked as being written forever.
func TestWatchKVWritesEndsAWriteWhoseMiddlewarePanics(t *testing.T) {
	st := storetest.New(t, storetest.WithBuilder(func(b *client.Builder) *client.Builder {
		return b.Use(func(next ops.Handler) ops.Handler {
			return func(ctx context.Context, op ops.Op) (ops.Result, error) {
				res, err := next(ctx, op)
				if op.Kind == ops.KVSet {
					panic("middleware bug")
				}
				return res, err
			}
		})
	}))
	log := &kvWatchLog{srv: st.Redis}
	defer st.WatchKVWrites(log)()
	func() {
		defer func() {
			if r := recover(); r != "middleware bug" {
				t.Fatalf("recovered %v, want the middleware's panic", r)
			}
		}()
		_ = st.KV.Set(context.Background(), "a", 1, 0)
	}()
	const a = "igniter:store:test:kv:a"
	want := []string{"begin " + a + " (absent)", "end " + a + " STORE_OUTCOME_UNKNOWN (1)"}
	if !slices.Equal(log.events, want) {
		t.Fatalf("watched %q, want %q", log.events, want)
	}
}

// A kv write whose ctx is already done sends nothing, so its watchers are not told of it (a
// watcher would otherwise have to assume it may be applied): it fails with the ctx's code, as
// the chain would, through telemetry only.
func TestWatchKVWritesIsNotToldOfAWriteWhoseCtxIsDone(t *testing.T) {
	reached := 0
	st := storetest.New(t, storetest.WithBuilder(func(b *client.Builder) *client.Builder {
		return b.Use(func(next ops.Handler) ops.Handler {
			return func(ctx context.Context, op ops.Op) (ops.Result, error) {
				reached++
				return next(ctx, op)
			}
		})
	}))
	log := &kvWatchLog{srv: st.Redis}
	defer st.WatchKVWrites(log)()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	for ctx, code := range map[context.Context]ops.Code{canceled: ops.CodeCanceled, expired: ops.CodeTimeout} {
		if err := st.KV.Set(ctx, "a", 1, 0); !ops.HasCode(err, code) {
			t.Errorf("KV.Set: %v, want %s", err, code)
		}
		if err := st.KV.Remove(ctx, "a"); !ops.HasCode(err, code) {
			t.Errorf("KV.Remove: %v, want %s", err, code)
		}
		if err := st.Batch.Set(ctx, client.BatchEntry{Key: "a", Value: 1}); !ops.HasCode(err, code) {
			t.Errorf("Batch.Set: %v, want %s", err, code)
		}
	}
	if len(log.events) != 0 || reached != 0 || st.Redis.Exists("igniter:store:test:kv:a") {
		t.Fatalf("watched %q, middleware reached %d times, key set %v: want nothing", log.events, reached, st.Redis.Exists("igniter:store:test:kv:a"))
	}
}

// endLog is a client.KVWriteWatcher that passes the ends of one key on, from any goroutine.
type endLog struct {
	key  string
	ends chan error
}

func (l *endLog) BeginKVWrite(string) {}

func (l *endLog) EndKVWrite(key string, err error) {
	if key == l.key {
		l.ends <- err
	}
}

// nextEnd waits for the next end of l's key.
func (l *endLog) nextEnd(t *testing.T) error {
	t.Helper()
	select {
	case err := <-l.ends:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("the write never ended for its watcher")
		return nil
	}
}

// noEndYet checks that l's key has not ended.
func (l *endLog) noEndYet(t *testing.T, why string) {
	t.Helper()
	select {
	case err := <-l.ends:
		t.Fatalf("the write ended for its watcher (%v) %s", err, why)
	default:
	}
}

// A pipelined kv write whose caller left (its ctx ended) while the store's pipeline still held
// it ends for the watchers only once nothing of it can reach Redis, with what became of it:
//   - queued behind a batch the server has not answered, it is dropped unwritten once that
//     batch is: ErrWriteNotSent;
//   - waiting for a new connection (a slow dial) after the pipeline's drop check, it is written
//     once the connection comes, after its caller got STORE_TIMEOUT: nil, Redis acknowledged
//     it. Ending it when its caller left would let a later write's acknowledgement hide it.
func TestWatchKVWritesEndsALeftPipelinedWriteOnceItSettles(t *testing.T) {
	const key = "igniter:store:api:kv:k"
	setup := func(t *testing.T) (*client.Store, *faultproxy.Proxy, *faultproxy.DialGate, *endLog, *redis.Client) {
		srv := redistest.Start(t)
		proxy := faultproxy.Start(t, srv.Addr)
		g := &faultproxy.DialGate{}
		rdb := redis.NewClient(&redis.Options{Addr: proxy.Addr, MaxRetries: -1, ContextTimeoutEnabled: true, Dialer: g.Dial})
		t.Cleanup(func() { _ = rdb.Close() })
		st := storetest.Connect(t, rdb, client.New().WithService("api"))
		log := &endLog{key: key, ends: make(chan error, 8)}
		t.Cleanup(st.WatchKVWrites(log))
		return st, proxy, g, log, srv.Client(t)
	}
	// holdSet starts a write of another key whose reply the proxy holds, and waits until it is.
	holdSet := func(t *testing.T, st *client.Store, proxy *faultproxy.Proxy, other string) (release func(), done chan error) {
		held, release := proxy.HoldReplyTo("set")
		done = make(chan error, 1)
		go func() { done <- st.KV.Set(context.Background(), other, 1, 0) }()
		select {
		case <-held:
		case <-time.After(10 * time.Second):
			t.Fatal("no SET held")
		}
		return release, done
	}
	leave := func(t *testing.T, st *client.Store) {
		short, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		if err := st.KV.Set(short, "k", 2, 0); !ops.HasCode(err, ops.CodeTimeout) {
			t.Fatalf("the held write: %v, want STORE_TIMEOUT", err)
		}
	}

	t.Run("DroppedFromTheQueue", func(t *testing.T) {
		st, proxy, _, log, plain := setup(t)
		// The first held write goes direct, the second through the pipeline's lane, which then
		// holds what is queued behind it.
		release1, done1 := holdSet(t, st, proxy, "o1")
		release2, done2 := holdSet(t, st, proxy, "o2")
		leave(t, st) // queued behind the lane's batch
		log.noEndYet(t, "while it was queued behind an unanswered batch")
		release1()
		release2()
		for _, d := range []chan error{done1, done2} {
			if err := <-d; err != nil {
				t.Fatal(err)
			}
		}
		if err := log.nextEnd(t); !errors.Is(err, client.ErrWriteNotSent) || !ops.HasCode(err, ops.CodeTimeout) {
			t.Fatalf("the dropped write ended with %v, want ErrWriteNotSent wrapping its STORE_TIMEOUT", err)
		}
		if n, _ := plain.Exists(context.Background(), key).Result(); n != 0 {
			t.Fatal("the dropped write was applied")
		}
	})

	t.Run("WrittenAfterADial", func(t *testing.T) {
		st, proxy, g, log, plain := setup(t)
		release, done := holdSet(t, st, proxy, "o1") // holds the one connection: the next write needs another
		defer func() { release(); <-done }()
		dialing, releaseDial := g.Arm()
		defer releaseDial()
		leave(t, st)
		select {
		case <-dialing:
		default:
			t.Fatal("the write did not wait for a dial: the interleaving was not reached")
		}
		log.noEndYet(t, "while it waited for its connection")
		releaseDial()
		if err := log.nextEnd(t); err != nil {
			t.Fatalf("the write sent once its connection came ended with %v, want nil (acknowledged)", err)
		}
		if v, err := plain.Get(context.Background(), key).Result(); err != nil || v != "2" {
			t.Fatalf("Redis holds %q (%v), want the late write's 2", v, err)
		}
	})
}
