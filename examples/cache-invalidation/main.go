// Command cache-invalidation is the original's "local cache invalidated by events" recipe, done
// with server-assisted client-side caching (package nearcache): the catalog service keeps prices
// in memory. A write through this store drops the cached price before the write returns, so the
// next read returns the new price; a write by another Go service or the Node original makes Redis
// invalidate it, and reads return the new price once that invalidation is applied (within
// milliseconds; never later than MaxStaleness). There is no event to miss: a lost invalidation
// connection drops every entry it covered.
//
// On a real server (-redis ADDR) repeated reads are served from memory (the hit counts go to
// stderr); the embedded miniredis has no CLIENT TRACKING, so there every read goes to Redis, with
// the same results.
//
//	go run ./examples/cache-invalidation              # embedded Redis (miniredis)
//	go run ./examples/cache-invalidation -redis ADDR  # a real server
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/examples/internal/harness"
	"github.com/igniter-go/store/nearcache"
)

// Price is a catalog price.
type Price struct {
	SKU   string `json:"sku"`
	Cents int    `json:"cents"`
}

func main() { harness.Main(program(os.Stderr)) }

// program is the example; it writes the near cache's hit counts to diag.
func program(diag io.Writer) harness.Program {
	return func(ctx context.Context, env *harness.Env, out io.Writer) error {
		return run(ctx, env, out, diag)
	}
}

func run(ctx context.Context, env *harness.Env, out, diag io.Writer) error {
	store, err := env.Store(client.New().WithService("catalog-example").AddScope("tenant"))
	if err != nil {
		return err
	}
	rdb := env.Redis() // another Go service's client
	acme := store.MustScope("tenant", "acme")
	if err := acme.KV.Set(ctx, "price:sku_1", Price{"sku_1", 1999}, 0); err != nil {
		return err
	}

	invalidated := make(chan struct{}, 16)
	near, err := nearcache.New(acme, nearcache.Options{
		Redis:      &redis.Options{Addr: env.Addr},
		MaxEntries: 1000,
		OnEvent: func(e nearcache.Event) {
			if e.Kind == nearcache.Invalidated {
				select {
				case invalidated <- struct{}{}:
				default:
				}
			}
		},
	})
	if err != nil {
		return err
	}
	defer near.Close()

	show := func(who string) error {
		var p Price
		for range 100 { // a hot read path: served from memory after the first read
			if _, err := near.Get(ctx, "price:sku_1", &p); err != nil {
				return err
			}
		}
		fmt.Fprintf(out, "after %s: catalog reads %d cents\n", who, p.Cents)
		return nil
	}
	// settle waits for the invalidation of a write; miniredis sends none, so it gives up quickly.
	settle := func() {
		select {
		case <-invalidated:
		case <-time.After(200 * time.Millisecond):
		}
	}
	drain := func() {
		for len(invalidated) > 0 {
			<-invalidated
		}
	}

	if err := show("start"); err != nil {
		return err
	}
	drain()
	if err := acme.KV.Set(ctx, "price:sku_1", Price{"sku_1", 1799}, 0); err != nil {
		return err
	}
	settle()
	if err := show("this store's write"); err != nil {
		return err
	}
	drain()
	// Another Go service, with a plain go-redis client.
	if err := rdb.Set(ctx, acme.Prefix()+":kv:price:sku_1", `{"sku":"sku_1","cents":1599}`, 0).Err(); err != nil {
		return err
	}
	settle()
	if err := show("a go-redis write"); err != nil {
		return err
	}
	drain()
	// The Node original: SET key <json> EX <seconds>.
	if err := rdb.Do(ctx, "SET", acme.Prefix()+":kv:price:sku_1", `{"sku":"sku_1","cents":1499}`, "EX", "3600").Err(); err != nil {
		return err
	}
	settle()
	if err := show("a Node-shaped SET"); err != nil {
		return err
	}
	s := near.Stats()
	fmt.Fprintf(diag, "near cache: %d hits, %d misses, %d invalidations\n", s.Hits, s.Misses, s.Invalidations)
	return nil
}
