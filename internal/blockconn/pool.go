package blockconn

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/internal/executor"
	"github.com/igniter-go/store/ops"
)

// Pool is what the stream operations of one built store share: the connections of their own
// that blocking reads use, and the consume loops that Close must stop. The store core owns one,
// made at Build and closed by Store.Close.
type Pool struct {
	src  redis.UniversalClient // the adapter's client; nil for an HandlerAdapter adapter
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

// DefaultSize is how many connections blocking reads may hold at once when the builder does not
// say (client.Builder.WithStreamConnections).
const DefaultSize = 8

// New returns the pool of a store whose adapter's client is src (nil for a handler adapter,
// which has no connections: Acquire then fails with STORE_NOT_CONNECTED). size ≤ 0 is
// DefaultSize. Nothing is opened until the first Acquire.
func New(src redis.UniversalClient, size int) *Pool {
	if size <= 0 {
		size = DefaultSize
	}
	st := &Pool{src: src, size: size, sem: make(chan struct{}, size), free: make(chan *blockConn, size)}
	st.closeCtx, st.closeCancel = context.WithCancel(context.Background())
	return st
}

// Connected reports whether the pool can open connections (the adapter has a go-redis client).
func (st *Pool) Connected() bool { return st.src != nil }

// AfterClose arranges for f to run in its own goroutine when Close starts (consume loops stop);
// stop undoes it, as context.AfterFunc's stop.
func (st *Pool) AfterClose(f func()) (stop func() bool) { return context.AfterFunc(st.closeCtx, f) }

// LoopDone ends a loop that StartLoop registered.
func (st *Pool) LoopDone() { st.loops.Done() }

// blockConn is one dedicated connection of a single-node client, with its CLIENT ID, so a read
// on it can be ended from another connection (CLIENT UNBLOCK) when its ctx ends.
type blockConn struct {
	conn *redis.Conn
	id   int64
}

// Lease is one blocking read's hold on a dedicated connection.
type Lease struct {
	st  *Pool
	rdb redis.Cmdable // what the read runs on
	bc  *blockConn    // nil for Cluster and Ring clients: their reads end at Block or Close
}

// Acquire waits for a free dedicated connection (or ctx's end) and leases it; release it when
// the read is done.
func (st *Pool) Acquire(ctx context.Context, kind ops.Kind) (*Lease, error) {
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
		return &Lease{st: st, rdb: rdb}, nil
	}
	select {
	case bc := <-st.free:
		return &Lease{st: st, rdb: bc.conn, bc: bc}, nil
	default:
	}
	conn := single.Conn()
	id, err := conn.ClientID(ctx).Result()
	if err != nil {
		_ = conn.Close()
		if executor.Category(err) == ops.ErrFailed { // a server without CLIENT ID (miniredis): reads end at Block
			st.noUnblock.Store(true)
			return &Lease{st: st, rdb: rdb}, nil
		}
		<-st.sem
		return nil, executor.MapError(kind, err)
	}
	bc := &blockConn{conn: conn, id: id}
	return &Lease{st: st, rdb: conn, bc: bc}, nil
}

// Context returns ctx routing the read to the leased connection (executor.WithReadConn).
func (l *Lease) Context(ctx context.Context) context.Context {
	return executor.WithReadConn(ctx, l.rdb)
}

// Watch ends the read on the leased connection when ctx ends, with CLIENT UNBLOCK sent on the
// adapter's client (go-redis does not interrupt a read in progress). The returned stop must be
// called once the read returned: it waits for an unblock in flight, so an unblock can never
// reach the connection's next read.
func (l *Lease) Watch(ctx context.Context) (stop func()) {
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

// Release returns the connection; one whose read failed is closed, not reused.
func (l *Lease) Release(healthy bool) {
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

func (st *Pool) isClosed() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.closed
}

func (st *Pool) client(kind ops.Kind) (redis.UniversalClient, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return nil, ops.Closed(kind)
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
		return nil, errors.New("blocking stream reads need a go-redis adapter; an HandlerAdapter adapter has no connections of its own")
	}
	return nil, errors.New("blocking stream reads need a *redis.Client, *redis.ClusterClient or *redis.Ring to open connections of their own")
}

// StartLoop registers a consume loop; it reports false when the store is closed.
func (st *Pool) StartLoop() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return false
	}
	st.loops.Add(1)
	return true
}

// Close stops the consume loops, interrupts blocking reads by closing the dedicated connections,
// waits for the loops to drain their handlers, and returns the first error.
func (st *Pool) Close() error {
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
