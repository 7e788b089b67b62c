package client

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/ops"
)

// streamState is what the stream operations of one built store share: the connections of their
// own that blocking reads use, and the consume loops that Close must stop. It lives beside the
// core (streamStates), so the streams feature needs no field in the core.
type streamState struct {
	src  redis.UniversalClient // the adapter's client; nil for an Executor adapter
	size int
	sem  chan struct{}   // one token per blocking read in progress
	free chan *blockConn // idle dedicated connections of a single-node client
	// noUnblock is set when the server does not answer CLIENT ID: reads then end at Block.
	noUnblock atomic.Bool

	mu          sync.Mutex
	rdb         redis.UniversalClient // the dedicated client, opened on first use
	closed      bool
	closeCtx    context.Context // done at Close: consume loops stop
	closeCancel context.CancelFunc
	loops       sync.WaitGroup
}

// streamStates maps a core to its streamState. The key is weak, so a store dropped without Close
// does not stay reachable through this map; a cleanup then closes its connections.
var streamStates sync.Map // weak.Pointer[core] → *streamState

// registerStreams gives c its stream state, once; it returns the state c has.
func registerStreams(c *core, size int) *streamState {
	if size <= 0 {
		size = defaultStreamConns
	}
	st := &streamState{src: c.adapter.universal(), size: size, sem: make(chan struct{}, size), free: make(chan *blockConn, size)}
	st.closeCtx, st.closeCancel = context.WithCancel(context.Background())
	key := weak.Make(c)
	if v, loaded := streamStates.LoadOrStore(key, st); loaded {
		st.closeCancel()
		return v.(*streamState)
	}
	if !c.onClose(func() error {
		streamStates.Delete(key)
		return st.close()
	}) { // closed already: the state is born closed
		streamStates.Delete(key)
		_ = st.close()
		return st
	}
	runtime.AddCleanup(c, func(k weak.Pointer[core]) {
		if v, ok := streamStates.LoadAndDelete(k); ok {
			_ = v.(*streamState).close()
		}
	}, key)
	return st
}

// streamsOf returns the core's stream state (Build always registers one).
func streamsOf(c *core) *streamState {
	if v, ok := streamStates.Load(weak.Make(c)); ok {
		return v.(*streamState)
	}
	return registerStreams(c, 0)
}

// blockConn is one dedicated connection of a single-node client, with its CLIENT ID, so a read
// on it can be ended from another connection (CLIENT UNBLOCK) when its ctx ends.
type blockConn struct {
	conn *redis.Conn
	id   int64
}

// lease is one blocking read's hold on a dedicated connection.
type lease struct {
	st  *streamState
	rdb redis.Cmdable // what the read runs on
	bc  *blockConn    // nil for Cluster and Ring clients: their reads end at Block or Close
}

// acquire waits for a free dedicated connection (or ctx's end) and leases it; release it when
// the read is done.
func (st *streamState) acquire(ctx context.Context, kind ops.Kind) (*lease, error) {
	select {
	case st.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ops.Failure(kind, ops.ErrCanceled, ctx.Err())
	}
	rdb, err := st.client(kind)
	if err != nil {
		<-st.sem
		return nil, err
	}
	single, ok := rdb.(*redis.Client)
	if !ok || st.noUnblock.Load() {
		return &lease{st: st, rdb: rdb}, nil
	}
	select {
	case bc := <-st.free:
		return &lease{st: st, rdb: bc.conn, bc: bc}, nil
	default:
	}
	conn := single.Conn()
	id, err := conn.ClientID(ctx).Result()
	if err != nil {
		_ = conn.Close()
		if categoryOf(err) == ops.ErrFailed { // a server without CLIENT ID (miniredis): reads end at Block
			st.noUnblock.Store(true)
			return &lease{st: st, rdb: rdb}, nil
		}
		<-st.sem
		return nil, mapError(kind, err)
	}
	bc := &blockConn{conn: conn, id: id}
	return &lease{st: st, rdb: conn, bc: bc}, nil
}

// watch ends the read on the leased connection when ctx ends, with CLIENT UNBLOCK sent on the
// adapter's client (go-redis does not interrupt a read in progress). The returned stop must be
// called once the read returned: it waits for an unblock in flight, so an unblock can never
// reach the connection's next read.
func (l *lease) watch(ctx context.Context) (stop func()) {
	if l.bc == nil || l.st.src == nil {
		return func() {}
	}
	done := make(chan struct{})
	after := context.AfterFunc(ctx, func() {
		defer close(done)
		uctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = l.st.src.ClientUnblock(uctx, l.bc.id).Err()
	})
	return func() {
		if !after() {
			<-done
		}
	}
}

// release returns the connection; one whose read failed is closed, not reused.
func (l *lease) release(healthy bool) {
	if l.bc != nil {
		if healthy && !l.st.isClosed() {
			select {
			case l.st.free <- l.bc:
			default:
				_ = l.bc.conn.Close()
			}
		} else {
			_ = l.bc.conn.Close()
		}
	}
	<-l.st.sem
}

func (st *streamState) isClosed() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.closed
}

func (st *streamState) client(kind ops.Kind) (redis.UniversalClient, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return nil, errClosed(kind)
	}
	if st.rdb == nil {
		rdb, err := dedicatedClient(st.src, st.size)
		if err != nil {
			return nil, ops.NewError(ops.CodeNotConnected, kind.Operation(), err.Error(), nil)
		}
		st.rdb = rdb
	}
	return st.rdb, nil
}

// dedicatedClient opens a client like src, with a pool of size connections and go-redis's
// retries off. Hooks added to src (AddHook) are not copied.
func dedicatedClient(src redis.UniversalClient, size int) (redis.UniversalClient, error) {
	switch c := src.(type) {
	case *redis.Client:
		o := *c.Options()
		o.PoolSize, o.MaxActiveConns, o.MinIdleConns, o.MaxIdleConns = size, size, 0, size
		o.MaxRetries = -1
		return redis.NewClient(&o), nil
	case *redis.ClusterClient:
		o := *c.Options()
		o.PoolSize, o.MaxActiveConns, o.MinIdleConns, o.MaxIdleConns = size, size, 0, size
		o.MaxRetries = -1
		return redis.NewClusterClient(&o), nil
	case *redis.Ring:
		o := *c.Options()
		o.PoolSize, o.MinIdleConns, o.MaxIdleConns = size, 0, size
		o.MaxRetries = -1
		return redis.NewRing(&o), nil
	case nil:
		return nil, errors.New("blocking stream reads need a go-redis adapter; an Executor adapter has no connections of its own")
	}
	return nil, errors.New("blocking stream reads need a *redis.Client, *redis.ClusterClient or *redis.Ring to open connections of their own")
}

// startLoop registers a consume loop; it reports false when the store is closed.
func (st *streamState) startLoop() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return false
	}
	st.loops.Add(1)
	return true
}

// close stops the consume loops, interrupts blocking reads by closing the dedicated connections,
// waits for the loops to drain their handlers, and returns the first error.
func (st *streamState) close() error {
	st.mu.Lock()
	if st.closed {
		st.mu.Unlock()
		return nil
	}
	st.closed = true
	st.closeCancel()
	rdb := st.rdb
	st.mu.Unlock()
	var err error
	for drained := false; !drained; {
		select {
		case bc := <-st.free:
			_ = bc.conn.Close()
		default:
			drained = true
		}
	}
	if rdb != nil {
		if e := rdb.Close(); e != nil && !errors.Is(e, redis.ErrClosed) {
			err = e
		}
	}
	st.loops.Wait()
	return err
}

type readConnKey struct{}

// withReadConn routes a StreamRead through the chain to rdb, the dedicated connection its slot
// holds. The executor is the only reader ([readConn]).
func withReadConn(ctx context.Context, rdb redis.Cmdable) context.Context {
	return context.WithValue(ctx, readConnKey{}, rdb)
}

// readConn returns the connection withReadConn put in ctx, or def.
func readConn(ctx context.Context, def redis.Cmdable) redis.Cmdable {
	if rdb, ok := ctx.Value(readConnKey{}).(redis.Cmdable); ok {
		return rdb
	}
	return def
}

type entryTraceKey struct{}

// withEntryTrace lets the executor inject the trace context of the XADD's own ctx (the span the
// telemetry middleware started) into the entry's trace field.
func withEntryTrace(ctx context.Context, carrier TraceCarrier) context.Context {
	return context.WithValue(ctx, entryTraceKey{}, carrier)
}

// entryTrace returns the trace context to write with an entry, or "".
func entryTrace(ctx context.Context) string {
	if c, ok := ctx.Value(entryTraceKey{}).(TraceCarrier); ok {
		return c.Inject(ctx)
	}
	return ""
}
