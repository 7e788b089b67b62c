// Command pricing-cache is the original's multi-tenant pricing cache, without the stampede: 200
// concurrent requests per tenant for a cold price reach the database once per tenant
// (cache.GetOrLoad: singleflight in the process, a claim across instances), an unknown SKU is
// remembered as not found, and a database error is never cached.
//
//	go run ./examples/pricing-cache              # embedded Redis (miniredis)
//	go run ./examples/pricing-cache -redis ADDR  # a real server
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/igniter-go/store/cache"
	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/examples/internal/harness"
)

// Price is what the pricing database returns.
type Price struct {
	SKU      string `json:"sku"`
	Cents    int    `json:"cents"`
	Currency string `json:"currency"`
}

// database is the slow source of truth; it counts its queries.
type database struct {
	queries atomic.Int64
	down    atomic.Bool
}

func (db *database) price(ctx context.Context, tenant, sku string) (Price, error) {
	db.queries.Add(1)
	time.Sleep(20 * time.Millisecond) // the query's cost
	switch {
	case db.down.Load():
		return Price{}, errors.New("pricing database unavailable")
	case sku == "sku_missing":
		return Price{}, cache.ErrNotFound
	case tenant == "acme":
		return Price{SKU: sku, Cents: 1999, Currency: "USD"}, nil
	}
	return Price{SKU: sku, Cents: 1799, Currency: "EUR"}, nil
}

func main() { harness.Main(run) }

func run(ctx context.Context, env *harness.Env, out io.Writer) error {
	store, err := env.Store(client.New().WithService("pricing-example").AddScope("tenant"))
	if err != nil {
		return err
	}
	prices, err := cache.New(store, cache.Options{NegativeTTL: time.Minute, Beta: 1})
	if err != nil {
		return err
	}
	defer prices.Close()

	db := &database{}
	for _, tenant := range []string{"acme", "globex"} {
		scoped := prices.For(store.MustScope("tenant", tenant))
		_ = scoped.Store().KV.Remove(ctx, "cache:price:sku_1") // start cold on a reused server
		before := db.queries.Load()
		var wg sync.WaitGroup
		results := make([]Price, 200)
		errs := make([]error, 200)
		for i := range results {
			wg.Go(func() {
				results[i], errs[i] = cache.GetOrLoad(ctx, scoped, "price:sku_1", 5*time.Minute, func(ctx context.Context) (Price, error) {
					return db.price(ctx, tenant, "sku_1")
				})
			})
		}
		wg.Wait()
		for i := range errs {
			if errs[i] != nil {
				return errs[i]
			}
			if results[i] != results[0] {
				return fmt.Errorf("request %d saw %+v, request 0 saw %+v", i, results[i], results[0])
			}
		}
		fmt.Fprintf(out, "%s: 200 concurrent requests, %d database query, price %d %s\n",
			tenant, db.queries.Load()-before, results[0].Cents, results[0].Currency)
	}

	acme := prices.For(store.MustScope("tenant", "acme"))
	_ = acme.Store().KV.Remove(ctx, "cache:price:sku_missing")
	before := db.queries.Load()
	for range 3 {
		_, err := cache.GetOrLoad(ctx, acme, "price:sku_missing", 5*time.Minute, func(ctx context.Context) (Price, error) {
			return db.price(ctx, "acme", "sku_missing")
		})
		if !errors.Is(err, cache.ErrNotFound) {
			return fmt.Errorf("unknown SKU: %v", err)
		}
	}
	fmt.Fprintf(out, "unknown SKU asked 3 times: not found, %d database query\n", db.queries.Load()-before)

	db.down.Store(true)
	_ = acme.Store().KV.Remove(ctx, "cache:price:sku_2")
	before = db.queries.Load()
	for range 2 {
		if _, err := cache.GetOrLoad(ctx, acme, "price:sku_2", 5*time.Minute, func(ctx context.Context) (Price, error) {
			return db.price(ctx, "acme", "sku_2")
		}); err == nil {
			return errors.New("a database error was hidden")
		}
	}
	fmt.Fprintf(out, "database down, asked 2 times: 2 errors, %d database queries (errors are not cached)\n", db.queries.Load()-before)
	db.down.Store(false)
	p, err := cache.GetOrLoad(ctx, acme, "price:sku_2", 5*time.Minute, func(ctx context.Context) (Price, error) {
		return db.price(ctx, "acme", "sku_2")
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "database back: price %d %s\n", p.Cents, p.Currency)
	return nil
}
