package pause

import (
	"context"
	"math/rand/v2"
	"time"
)

// Jitter returns a random duration in [d/2, d].
func Jitter(d time.Duration) time.Duration {
	half := d / 2
	return half + rand.N(d-half+1)
}

// For waits d or until ctx ends, returning ctx's error then. A d of zero or less does not wait:
// it returns ctx's error, nil while ctx is live.
func For(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
