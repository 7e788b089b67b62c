package ops

import "time"

// RateArgs are the arguments of a GCRA rate-limit check ([CounterGCRA]): Rate requests per
// Period, with bursts of up to Burst. The Op's N is the cost of the request (how many units it
// takes); a cost of 0 only reads the state.
type RateArgs struct {
	Rate   int64
	Period time.Duration
	Burst  int64
}

// RateReply is the reply of a GCRA check.
type RateReply struct {
	// Allowed is the cost let through: the Op's N, or 0 when the request is limited.
	Allowed int64
	// Remaining is how many more units would be allowed right now.
	Remaining int64
	// RetryAfter is how long until a request of the same cost would be allowed; 0 when allowed.
	RetryAfter time.Duration
	// ResetAfter is how long until the limiter is back to its full burst.
	ResetAfter time.Duration
}
