package retry

import (
	"math"
	"sync/atomic"
)

// Budget limits retries to a ratio of requests, as a token bucket: every request (first
// attempt) deposits ratio tokens, every retry withdraws one, and the bucket holds at most burst
// tokens. Over any stretch of time, retries ≤ ratio × requests + burst, so during an outage the
// retries add at most ratio to the load. It starts full, so a quiet service can still retry.
//
// A Budget is safe for concurrent use. Share one Budget between middlewares to give them one
// common limit.
type Budget struct {
	milli    atomic.Int64 // tokens × 1000
	deposit  int64        // milli-tokens per request
	capacity int64        // milli-tokens
}

// NewBudget returns a budget that allows retries of ratio (0.1 = 10%) of the requests, plus a
// burst of retries. A ratio ≤ 0 allows only the burst, once; a burst < 1 is raised to 1.
func NewBudget(ratio float64, burst int) *Budget {
	burst = max(burst, 1)
	b := &Budget{deposit: int64(math.Round(max(ratio, 0) * 1000)), capacity: int64(burst) * 1000}
	b.milli.Store(b.capacity)
	return b
}

// Tokens returns the number of retries the budget allows now.
func (b *Budget) Tokens() int { return int(b.milli.Load() / 1000) }

// request records a request (a first attempt).
func (b *Budget) request() {
	if b.deposit == 0 {
		return
	}
	for {
		cur := b.milli.Load()
		if cur >= b.capacity {
			return
		}
		if b.milli.CompareAndSwap(cur, min(cur+b.deposit, b.capacity)) {
			return
		}
	}
}

// withdraw takes one retry's token; it reports false when there is none.
func (b *Budget) withdraw() bool {
	for {
		cur := b.milli.Load()
		if cur < 1000 {
			return false
		}
		if b.milli.CompareAndSwap(cur, cur-1000) {
			return true
		}
	}
}
