package client

import (
	"context"
	"sync"
)

// eventsState is the events state one Build shares among the stores scoped from it (the core's
// events field): the configuration and the subscriber connection, opened at the first Subscribe
// and closed by Store.Close.
type eventsState struct {
	cfg eventsConfig

	mu     sync.Mutex
	sub    *subscriber
	closed bool
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
