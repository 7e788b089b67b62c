// Package storetest gives tests a ready Store on an in-process miniredis, as net/http/httptest
// gives them a server: no Redis to install, nothing to clean up by hand.
//
//	func TestCheckout(t *testing.T) {
//		st := storetest.New(t)
//		_ = st.Store.KV.Set(ctx, "cart:1", cart, time.Hour)
//		st.Redis.FastForward(time.Hour) // expire it
//	}
//
// miniredis speaks the Redis protocol in memory; it is fast and exact for KV, counters, claims,
// batches, scans, pub/sub and streams. Behaviour that depends on a real server (MONITOR, CLIENT
// KILL, blocking-read fairness) belongs in integration tests against redis-server.
package storetest

import (
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
)

// Store is a Store on a miniredis, with both at hand.
type Store struct {
	// Store is the store, built with service "test" unless WithBuilder says otherwise.
	*client.Store
	// Redis is the in-process server: inspect keys, FastForward TTLs, Close it to simulate an
	// outage.
	Redis *miniredis.Miniredis
	// Client is the go-redis client the store uses.
	Client *redis.Client
}

// Option changes how New builds the store.
type Option func(*client.Builder) *client.Builder

// WithBuilder lets the test configure the builder (scopes, middleware, service…); the adapter is
// set by New.
func WithBuilder(f func(*client.Builder) *client.Builder) Option { return Option(f) }

// New starts a miniredis and builds a Store on it with service "test". Both are closed at the
// test's cleanup. It fails the test if the store cannot be built.
func New(t testing.TB, opts ...Option) *Store {
	t.Helper()
	st, err := Open(opts...)
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// Open is New for code that has no testing.TB (examples, benchmarks' setup, other test
// helpers): the caller closes the Store, which also stops the miniredis.
func Open(opts ...Option) (*Store, error) {
	mr, err := miniredis.Run()
	if err != nil {
		return nil, err
	}
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1, ContextTimeoutEnabled: true})
	b := client.New().WithService("test")
	for _, o := range opts {
		b = o(b)
	}
	st, err := b.WithAdapter(client.Redis(rdb, client.OwnClient())).Build()
	if err != nil {
		_ = rdb.Close()
		mr.Close()
		return nil, err
	}
	return &Store{Store: st, Redis: mr, Client: rdb}, nil
}

// Close closes the store, its client and the miniredis.
func (s *Store) Close() error {
	err := s.Store.Close()
	s.Redis.Close()
	return err
}
