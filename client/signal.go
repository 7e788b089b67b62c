package client

import (
	"context"

	"github.com/igniter-go/store/ops"
)

// Signal gives sig to the store's observers (WithObserver, WithTelemetry, WithMetrics), with
// the store's identity filled in: service, scope key and depth, never the scope id. It is how a
// package that works beside the store but outside its operations reports what it does —
// package nearcache reports its hits, misses, invalidations and connection losses with it — so
// logs and metrics see it like the store's own signals. sig must carry no keys, values,
// payloads or scope ids. Observers run on the caller's goroutine and must be fast; a store
// without observers returns at once, and a signal passed by value allocates nothing here.
func (s *Store) Signal(ctx context.Context, sig ops.Signal) { s.signal(ctx, sig) }
