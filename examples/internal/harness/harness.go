package harness

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
)

// Program is one example: it writes what it shows to out.
type Program func(ctx context.Context, env *Env, out io.Writer) error

// Env is where an example runs: one Redis (embedded or real), on which it opens as many
// stores as it has instances. Close releases everything.
type Env struct {
	// Addr is the Redis address.
	Addr string
	// Embedded reports whether Redis is the in-process miniredis.
	Embedded bool

	mr      *miniredis.Miniredis
	stopCk  chan struct{}
	ckDone  chan struct{}
	mu      sync.Mutex
	stores  []*client.Store
	clients []*redis.Client
}

// Start returns an Env on the Redis at addr, or on a new miniredis when addr is "". miniredis
// only expires keys when told the time has passed, so the Env moves its clock with the wall
// clock: TTLs, leases and presence expire as on a real server.
func Start(addr string) (*Env, error) {
	if addr != "" {
		return &Env{Addr: addr}, nil
	}
	mr, err := miniredis.Run()
	if err != nil {
		return nil, err
	}
	e := &Env{Addr: mr.Addr(), Embedded: true, mr: mr, stopCk: make(chan struct{}), ckDone: make(chan struct{})}
	go e.clock()
	return e, nil
}

func (e *Env) clock() {
	defer close(e.ckDone)
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-e.stopCk:
			return
		case now := <-t.C:
			e.mr.FastForward(now.Sub(last))
			last = now
		}
	}
}

// Store builds a store from b with its own go-redis client (its own connections, as another
// process would have). The Env closes it.
func (e *Env) Store(b *client.Builder) (*client.Store, error) {
	rdb := redis.NewClient(&redis.Options{Addr: e.Addr, MaxRetries: -1, ContextTimeoutEnabled: true})
	st, err := b.WithAdapter(client.Redis(rdb, client.OwnClient())).Build()
	if err != nil {
		_ = rdb.Close()
		return nil, err
	}
	e.mu.Lock()
	e.stores = append(e.stores, st)
	e.mu.Unlock()
	return st, nil
}

// Redis returns a plain go-redis client on the Env's Redis, for what an example does outside a
// store: another service's writes, or resetting a key on a reused server. The Env closes it.
func (e *Env) Redis() *redis.Client {
	rdb := redis.NewClient(&redis.Options{Addr: e.Addr, MaxRetries: -1})
	e.mu.Lock()
	e.clients = append(e.clients, rdb)
	e.mu.Unlock()
	return rdb
}

// Close closes every store (Close is idempotent, so a store the example closed is fine), every
// client from [Env.Redis], and the embedded Redis.
func (e *Env) Close() error {
	e.mu.Lock()
	stores, clients := e.stores, e.clients
	e.stores, e.clients = nil, nil
	e.mu.Unlock()
	var errs []error
	for _, st := range stores {
		if err := st.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, rdb := range clients {
		if err := rdb.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if e.mr != nil {
		close(e.stopCk)
		<-e.ckDone
		e.mr.Close()
	}
	return errors.Join(errs...)
}

// AddrEnv is the environment variable that gives the examples (and the programs of the docs)
// their Redis address.
const AddrEnv = "REDIS_ADDR"

// RedisFlag defines the -redis flag on fs: the Redis address, $REDIS_ADDR by default, and an
// embedded miniredis when both are empty.
func RedisFlag(fs *flag.FlagSet) *string {
	return fs.String("redis", os.Getenv(AddrEnv),
		"Redis address (host:port); default $"+AddrEnv+", and when that is empty an embedded miniredis")
}

// Main is an example's main: it reads -redis (default $REDIS_ADDR), runs p until it returns or
// the process is interrupted, and exits 1 on an error.
func Main(p Program) {
	addr := RedisFlag(flag.CommandLine)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, p, *addr, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		stop()
		os.Exit(1)
	}
}

func run(ctx context.Context, p Program, addr string, out io.Writer) error {
	env, err := Start(addr)
	if err != nil {
		return err
	}
	err = p(ctx, env, out)
	return errors.Join(err, env.Close())
}

// Next receives from ch, or returns ctx's error when ctx ends first (so an example that waits
// for a delivery cannot hang).
func Next[T any](ctx context.Context, ch <-chan T) (T, error) {
	select {
	case v := <-ch:
		return v, nil
	case <-ctx.Done():
		var zero T
		return zero, fmt.Errorf("waiting for a delivery: %w", context.Cause(ctx))
	}
}
