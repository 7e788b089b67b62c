package timeout

import (
	"context"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// Granularity is the width of the windows whose operations share one deadline timer.
const Granularity = 10 * time.Millisecond

// window is one shared deadline: done closes at at. stale is set Granularity after the window
// opened, when handing it out would give a deadline shorter than d; the next call opens a new
// one. So a call reads no clock (one read costs 80–130 ns on a VM, as much as the rest of the
// middleware): only opening a window does, once per Granularity and shard.
type window struct {
	at    time.Time
	done  chan struct{}
	stale atomic.Bool
	// expired is set right before done closes, so Err is one atomic load.
	expired atomic.Bool
	// background is the window's context for a context.Background() parent, the common case:
	// built once with the window, so such a call allocates nothing.
	background *sharedDeadline
}

// shards is how many windows are open at once. Every caller waiting on a pipelined reply
// selects on its context's Done channel as well as on the reply, and a channel's waiters share
// its lock: with one window, 64 callers contended on one channel (issue #12's profile put the
// select at 3.6 % of the client's CPU). Each call takes a window of a random shard, so the
// waiters spread over 8 channels.
const shards = 8

// windows hands out the shared deadline of the current window.
type windows struct {
	d   time.Duration
	cur [shards]atomic.Pointer[window]
}

// current returns an open window: its deadline is d+Granularity after it opened, and it is
// handed out for Granularity, so the deadline falls between d and d+Granularity after the call
// (shorter than d only by the lateness of the timer that marks it stale).
func (ws *windows) current() *window {
	cur := &ws.cur[rand.Uint32N(shards)]
	for {
		w := cur.Load()
		if w != nil && !w.stale.Load() {
			return w
		}
		now := time.Now()
		nw := &window{at: now.Add(ws.d + Granularity), done: make(chan struct{})}
		nw.background = &sharedDeadline{Context: context.Background(), w: nw}
		if cur.CompareAndSwap(w, nw) {
			nw.arm(ws.d)
			return nw
		}
	}
}

// arm starts the window's one timer: it fires Granularity from now and marks the window stale,
// then again d later and closes done (one timer, not two: at one caller, 20k ops/s over 8
// shards open 800 windows a second, and each firing wakes a goroutine).
func (w *window) arm(d time.Duration) {
	var t atomic.Pointer[time.Timer]
	t.Store(time.AfterFunc(Granularity, func() {
		if w.stale.Swap(true) {
			w.expire() // the second firing
			return
		}
		if tm := t.Load(); tm != nil {
			tm.Reset(d)
			return
		}
		// Fired before AfterFunc's result was stored (its caller was descheduled for a whole
		// Granularity): close done on a timer of its own.
		time.AfterFunc(d, w.expire)
	}))
}

// expire ends the window: Err reports the deadline from here on, then Done closes.
func (w *window) expire() {
	w.expired.Store(true)
	close(w.done)
}

// contextFor returns the window's deadline context over parent.
func (w *window) contextFor(parent context.Context) context.Context {
	if parent == context.Background() {
		return w.background
	}
	return &sharedDeadline{Context: parent, w: w}
}

// sharedDeadline is a context that cannot be canceled (its parent's Done is nil) given a shared
// deadline. Values come from the parent.
type sharedDeadline struct {
	context.Context
	w *window
}

func (c *sharedDeadline) Deadline() (time.Time, bool) { return c.w.at, true }
func (c *sharedDeadline) Done() <-chan struct{}       { return c.w.done }
func (c *sharedDeadline) Err() error {
	if c.w.expired.Load() {
		return context.DeadlineExceeded
	}
	return nil
}
