package client

// Review R3: adversarial tests of the lane engine (internal/executor/lane.go). Each test states
// the promise it tries to break.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
)

// r3PanicHook panics once, when armed, in its ProcessPipelineHook on a batch that carries a
// store command (NoRetry): before next when before is set, else after next.
type r3PanicHook struct {
	armed  *atomic.Bool
	before bool
}

func (r3PanicHook) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (r3PanicHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (h r3PanicHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		store := false
		for _, c := range cmds {
			store = store || c.NoRetry()
		}
		if store && h.before && h.armed.CompareAndSwap(true, false) {
			panic("r3: application node hook panics")
		}
		err := next(ctx, cmds)
		if store && !h.before && h.armed.CompareAndSwap(true, false) {
			panic("r3: application hook panics after the write")
		}
		return err
	}
}

// r3Child runs body in a child test process (a panic on a goroutine the test cannot recover
// kills the whole binary): the parent fails with the child's output when the child dies.
func r3Child(t *testing.T, name string, body func(t *testing.T)) {
	if os.Getenv("R3_CHILD") == name {
		body(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "R3_CHILD="+name)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		b := out.Bytes()
		if len(b) > 4000 {
			b = b[:4000]
		}
		t.Fatalf("child process failed (%v): the process died or the test failed:\n%s", err, b)
	}
}

// The same panic in a ClusterClient-level hook (it runs on the lane goroutine): recovered.
// Control for the test above.
func TestR3ClusterClientHookPanicBeforeWriteIsRecovered(t *testing.T) {
	r3Child(t, "clienthook", func(t *testing.T) {
		rdb := redistest.StartCluster(t, 3).Client(t)
		armed := &atomic.Bool{}
		rdb.AddHook(r3PanicHook{armed: armed, before: true})
		st, _ := clusterStore(t, rdb, New().WithoutBreaker()) // unknown outcomes would open it
		r3AssertPanicBecomesAnErrorAndTheLaneGoesOn(t, st, armed)
	})
}

// r3AssertPanicBecomesAnErrorAndTheLaneGoesOn runs concurrent INCRs (so that they ride lanes,
// not the lone-op direct path), arms the hook, and wants: some op returns
// STORE_CALLBACK_PANIC, no op is applied twice (each key's final count equals its successes
// plus at most its non-success outcomes), and ops succeed afterwards.
func r3AssertPanicBecomesAnErrorAndTheLaneGoesOn(t *testing.T, st *Store, armed *atomic.Bool) {
	t.Helper()
	const callers = 16
	var wg sync.WaitGroup
	var sawPanic atomic.Bool
	var acked atomic.Int64 // ops acknowledged, by every caller
	ok := make([]int64, callers)
	bad := make([]int64, callers)
	last := make([]int64, callers)
	stop := make(chan struct{})
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				n, err := st.Counter.Increment(ctx, fmt.Sprintf("r3:{k%d}", i))
				cancel()
				if err == nil {
					ok[i]++
					last[i] = max(last[i], n)
					acked.Add(1)
					continue
				}
				bad[i]++
				var pv *ops.PanicValue
				switch {
				case ops.HasCode(err, ops.CodeOutcomeUnknown) && errors.As(err, &pv):
					sawPanic.Store(true)
				case ops.HasCode(err, ops.CodeCircuitOpen):
					// Unknown outcomes count against the breaker, which may open: those calls
					// were not sent (applied stays within ok..ok+bad below).
				default:
					t.Errorf("caller %d: %v", i, err)
				}
			}
		}()
	}
	waitFor(t, "every caller to complete an op", func() bool { return acked.Load() >= callers })
	armed.Store(true)
	waitFor(t, "the hook to panic", func() bool { return !armed.Load() })
	after := acked.Load()
	// The lanes must go on after the panic: more ops are acknowledged.
	waitFor(t, "an op acknowledged after the panic", func() bool { return acked.Load() > after+callers })
	close(stop)
	wg.Wait()
	if !sawPanic.Load() {
		t.Error("no op returned STORE_OUTCOME_UNKNOWN wrapping the hook's panic")
	}
	for i := range callers {
		n, err := st.Counter.Increment(context.Background(), fmt.Sprintf("r3:{k%d}", i))
		if err != nil {
			t.Fatalf("after the panic: %v", err)
		}
		applied := n - 1
		if applied < ok[i] || applied > ok[i]+bad[i] {
			t.Errorf("key %d: applied %d, acknowledged %d, failed %d: an op ran twice or an ack was lost", i, applied, ok[i], bad[i])
		}
	}
}

// G1: "a written non-idempotent command ... lost reply = STORE_OUTCOME_UNKNOWN". A
// ClusterClient hook that panics after next (the batch written, its replies read) is recovered
// by lane.run. The review found it set STORE_CALLBACK_PANIC on every command whose Err() was
// nil, that is on commands that had succeeded: the caller of an INCR that Redis applied was told
// a code that says nothing of the outcome. Now each gets STORE_OUTCOME_UNKNOWN wrapping the
// panic, and the INCR ran at most once.
func TestR3HookPanicAfterTheWriteIsOutcomeUnknown(t *testing.T) {
	r3Child(t, "afterwrite", func(t *testing.T) {
		rdb := redistest.StartCluster(t, 3).Client(t)
		armed := &atomic.Bool{}
		rdb.AddHook(r3PanicHook{armed: armed, before: false})
		st, _ := clusterStore(t, rdb, New().WithoutBreaker()) // unknown outcomes would open it
		const callers = 16
		var wg sync.WaitGroup
		var panicked []string
		lastOf := map[string]int64{}
		var mu sync.Mutex
		start := make(chan struct{})
		for i := range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				key := fmt.Sprintf("r3a:{k%d}", i)
				var last int64
				for armed.Load() {
					n, err := st.Counter.Increment(context.Background(), key)
					if err == nil {
						last = n
						continue
					}
					var pv *ops.PanicValue
					if ops.HasCode(err, ops.CodeOutcomeUnknown) && errors.As(err, &pv) {
						mu.Lock()
						panicked = append(panicked, key)
						lastOf[key] = last
						mu.Unlock()
					} else {
						t.Errorf("%s: %v", key, err)
					}
					return
				}
			}()
		}
		armed.Store(true)
		close(start)
		wg.Wait()
		if len(panicked) == 0 {
			t.Fatal("no op saw the panic")
		}
		for _, key := range panicked {
			// The op that got STORE_CALLBACK_PANIC was the last increment its caller made.
			n, err := st.Counter.Increment(context.Background(), key)
			if err != nil {
				t.Fatal(err)
			}
			// The INCR reported STORE_OUTCOME_UNKNOWN ran at most once: the counter moved by 1
			// (this increment) or 2 (that one ran too), never more (a re-send).
			if n != lastOf[key]+1 && n != lastOf[key]+2 {
				t.Errorf("%s: counter %d after %d and one increment whose outcome was unknown: want %d or %d", key, n, lastOf[key], lastOf[key]+1, lastOf[key]+2)
			}
		}
	})
}
