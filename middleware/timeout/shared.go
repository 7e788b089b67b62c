package timeout

import (
	"context"
	"sync/atomic"
	"time"
)

// Granularity is the width of the windows whose operations share one deadline timer.
const Granularity = 10 * time.Millisecond

// window is one shared deadline: done closes at at.
type window struct {
	at   time.Time
	done chan struct{}
}

// windows hands out the shared deadline of the current window.
type windows struct {
	d   time.Duration
	cur atomic.Pointer[window]
}

// current returns a window whose deadline is at least d and less than d+Granularity after now.
func (ws *windows) current(now time.Time) *window {
	want := now.Add(ws.d)
	for {
		w := ws.cur.Load()
		if w != nil && !w.at.Before(want) && w.at.Sub(want) < Granularity {
			return w
		}
		nw := &window{at: want.Truncate(Granularity).Add(Granularity), done: make(chan struct{})}
		if ws.cur.CompareAndSwap(w, nw) {
			time.AfterFunc(time.Until(nw.at), func() { close(nw.done) })
			return nw
		}
	}
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
	select {
	case <-c.w.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}
