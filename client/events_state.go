package client

import (
	"context"
	"runtime"
	"sync"
	"weak"
)

// eventsState is the events state one Build shares among the stores scoped from it: the
// configuration and the subscriber connection, opened at the first Subscribe. The core has no
// field for it (features keep to their own files), so it lives in a map keyed by a weak pointer
// to the core, deleted when the core is collected.
type eventsState struct {
	cfg eventsConfig

	mu     sync.Mutex
	sub    *subscriber
	closed bool
}

var eventStates sync.Map // weak.Pointer[core] → *eventsState

// registerEvents creates the core's events state and has Store.Close close it.
func registerEvents(c *core, cfg eventsConfig) *eventsState {
	st := &eventsState{cfg: cfg}
	key := weak.Make(c)
	eventStates.Store(key, st)
	runtime.AddCleanup(c, func(k weak.Pointer[core]) { eventStates.Delete(k) }, key)
	c.onClose(st.close)
	return st
}

// stateOf returns the core's events state, creating an empty one for a core that was not built
// by Build.
func stateOf(c *core) *eventsState {
	if v, ok := eventStates.Load(weak.Make(c)); ok {
		return v.(*eventsState)
	}
	return registerEvents(c, eventsConfig{})
}

// subscriber returns the subscriber, starting it on first use.
func (st *eventsState) subscriber(c *core) (*subscriber, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed || c.closed.Load() {
		return nil, errClosedEvents()
	}
	if st.sub == nil {
		st.sub = newSubscriber(c, st.cfg)
	}
	return st.sub, nil
}

// current returns the subscriber, or nil when none was started.
func (st *eventsState) current() *subscriber {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.sub
}

// close ends the subscriber (Store.Close).
func (st *eventsState) close() error {
	st.mu.Lock()
	st.closed = true
	sub := st.sub
	st.mu.Unlock()
	if sub == nil {
		return nil
	}
	return sub.close(context.Background())
}
