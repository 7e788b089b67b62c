// Command ab-assignment is the original's A/B assignment without its race: 50 concurrent
// requests for one user each draw a variant, and KV.SetIfAbsent (one SET NX GET) lets exactly
// one draw win — every request, and every later one, sees the same variant. The same primitive
// deduplicates webhook deliveries: a redelivered event finds its idempotency key taken.
//
//	go run ./examples/ab-assignment              # embedded Redis (miniredis)
//	go run ./examples/ab-assignment -redis ADDR  # a real server
package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/examples/internal/harness"
)

func main() { harness.Main(run) }

func run(ctx context.Context, env *harness.Env, out io.Writer) error {
	store, err := env.Store(client.New().WithService("ab-example").AddScope("tenant"))
	if err != nil {
		return err
	}
	acme := store.MustScope("tenant", "acme")
	key := "ab:pricing-page:user_42"
	_ = acme.KV.Remove(ctx, key) // a fresh experiment on a reused server

	const requests = 50
	var wg sync.WaitGroup
	seen := make([]string, requests)
	stored := make([]bool, requests)
	errs := make([]error, requests)
	for i := range requests {
		wg.Go(func() {
			draw := []string{"A", "B"}[rand.IntN(2)]
			seen[i], stored[i], errs[i] = client.SetIfAbsentAs(ctx, acme.KV, key, draw, 30*24*time.Hour)
		})
	}
	wg.Wait()
	variants := map[string]bool{}
	winners := 0
	for i := range requests {
		if errs[i] != nil {
			return errs[i]
		}
		variants[seen[i]] = true
		if stored[i] {
			winners++
		}
	}
	fmt.Fprintf(out, "%d concurrent requests: %d assignment stored, %d variant seen\n", requests, winners, len(variants))
	later, stored2, err := client.SetIfAbsentAs(ctx, acme.KV, key, "C", 30*24*time.Hour)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "a later request keeps the assignment: %v (stored again: %v)\n", variants[later], stored2)

	// Webhook dedup: the provider delivers evt_1 three times.
	_ = acme.KV.Remove(ctx, "webhook:evt_1")
	processed := 0
	for delivery := 1; delivery <= 3; delivery++ {
		first, err := acme.KV.SetIfAbsent(ctx, "webhook:evt_1", map[string]int{"delivery": delivery}, 24*time.Hour, nil)
		if err != nil {
			return err
		}
		if first {
			processed++
		}
	}
	fmt.Fprintf(out, "webhook evt_1 delivered 3 times, processed %d time\n", processed)
	return nil
}
