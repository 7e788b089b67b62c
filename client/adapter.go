package client

import (
	"errors"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/internal/executor"
	"github.com/igniter-go/store/ops"
)

// Adapter connects a Store to what runs its operations. Make one with [Redis] (a go-redis
// client: single node, Cluster, Sentinel or Ring) or [HandlerAdapter] (any [ops.Handler], for tests and
// benchmarks that need no Redis).
type Adapter interface {
	handler() ops.Handler
	// universal returns the go-redis client, or nil for an HandlerAdapter adapter.
	universal() redis.UniversalClient
	check() error
	close() error
}

// RedisOption configures the [Redis] adapter.
type RedisOption func(*redisAdapter)

// OwnClient makes Store.Close also close the go-redis client. Default: the client is the
// caller's, and Close leaves it open.
func OwnClient() RedisOption { return func(a *redisAdapter) { a.owned = true } }

// Redis returns an adapter over a go-redis client. The client must run with its own retries
// off (Options.MaxRetries: -1): go-redis would otherwise re-send every failed command, including
// INCR, behind the store's back and multiply attempts under the store's retry middleware. Build
// returns STORE_CONFIGURATION_INVALID when it can see they are on. It must also honour ctx
// deadlines (Options.ContextTimeoutEnabled: true, and no ReadTimeout or WriteTimeout of -2), or
// a caller's deadline cannot bound a call; Build checks that too (deadline.go).
func Redis(rdb redis.UniversalClient, opts ...RedisOption) Adapter {
	a := &redisAdapter{rdb: rdb}
	for _, o := range opts {
		o(a)
	}
	a.exec = executor.New(rdb) // never touches the network; no command is sent twice (executor/noretry.go)
	a.startPipeline()          // adapter_pipeline.go
	return a
}

type redisAdapter struct {
	rdb   redis.UniversalClient
	exec  *executor.Executor
	owned bool
	// pipelining (adapter_pipeline.go)
	pipeOpts PipelineOptions
	pipeErr  error
}

func (a *redisAdapter) handler() ops.Handler             { return a.exec.Handle }
func (a *redisAdapter) universal() redis.UniversalClient { return a.rdb }

func (a *redisAdapter) check() error {
	if a.rdb == nil {
		return errAdapterRequired()
	}
	if a.pipeErr != nil {
		return ops.NewError(ops.CodeConfigurationInvalid, "build", "The go-redis automatic pipeliner could not start with these PipelineOptions.", a.pipeErr)
	}
	retries := -1
	switch c := a.rdb.(type) {
	case *redis.Client:
		retries = c.Options().MaxRetries
	case *redis.ClusterClient:
		retries = c.Options().MaxRetries
	case *redis.Ring:
		retries = c.Options().MaxRetries
	}
	if retries > 0 {
		return ops.Invalid(ops.CodeConfigurationInvalid, "build",
			"The go-redis client retries failed commands itself (MaxRetries > 0), which can apply an INCR twice. Create it with MaxRetries: -1; the store's retry middleware retries only idempotent operations.",
			map[string]any{"maxRetries": retries})
	}
	return checkDeadlines(a.rdb) // deadline.go
}

func (a *redisAdapter) close() error {
	if err := a.exec.Close(); err != nil {
		return err
	}
	if !a.owned {
		return nil
	}
	if err := a.rdb.Close(); err != nil && !errors.Is(err, redis.ErrClosed) {
		return err
	}
	return nil
}

// HandlerAdapter returns an adapter that runs every Op with h and has no Redis connection: for unit
// tests, examples and benchmarks of the chain. Subscriptions and blocking stream reads, which need
// connections of their own, fail with STORE_NOT_CONNECTED.
func HandlerAdapter(h ops.Handler) Adapter { return handlerAdapter{h} }

type handlerAdapter struct{ h ops.Handler }

func (a handlerAdapter) handler() ops.Handler             { return a.h }
func (a handlerAdapter) universal() redis.UniversalClient { return nil }
func (a handlerAdapter) close() error                     { return nil }
func (a handlerAdapter) check() error {
	if a.h == nil {
		return errAdapterRequired()
	}
	return nil
}

func errAdapterRequired() error {
	return ops.NewError(ops.CodeAdapterRequired, "build", "Store adapter is required. Call WithAdapter before Build.", nil)
}
