package streams

import (
	"fmt"
	"time"

	"github.com/igniter-go/store/ops"
)

// ConsumeOptions configure [Group.Consume]. The zero value is ready to use; every field
// documents its default.
type ConsumeOptions struct {
	// Concurrency is how many handlers run at once. Default: 1.
	Concurrency int
	// Batch is the most entries one read or claim asks for. The loop holds at most
	// Concurrency+Batch entries (running or queued for a handler), so entries are read while
	// others are handled; queued entries count towards ClaimIdle. Default: max(10, 2×Concurrency).
	Batch int64
	// Block is how long one read waits for new entries (XREADGROUP BLOCK). It bounds how late a
	// claim pass or a lag report can be, and how long shutdown waits for the read in progress.
	// Each Redis call of the loop (read, ack, claim, lag report) has a deadline of Block plus 1 s,
	// so on a server that stopped answering shutdown waits at most that long for the call in
	// progress (go-redis does not end a call when its ctx is canceled), and a call fails with
	// STORE_TIMEOUT then. Default: 1s.
	Block time.Duration
	// ClaimIdle is how long an entry may stay pending (its handler failed, or its consumer died
	// holding it) before the loop claims it (XAUTOCLAIM) and delivers it again. A loop keeps the
	// entries it holds from looking idle (it refreshes them every ClaimIdle/3), so a long handler
	// is not a reason to raise it — unless the group has consumers of the original
	// @igniter-js/store, which cannot refresh theirs: there ClaimIdle must exceed the longest time
	// one of them takes to handle a batch, or a Go loop handles that batch too (docs/interop.md).
	// Negative turns claiming (and the refresh) off. Default: 30s.
	ClaimIdle time.Duration
	// ClaimInterval is how often the loop looks for such entries. Default: ClaimIdle/2.
	ClaimInterval time.Duration
	// MaxDeliveries is how many times an entry is delivered before the loop gives up on it:
	// when its last allowed delivery fails, or it is claimed with more deliveries than this, it
	// is added to the dead-letter stream (with its original id, error and delivery count) and
	// acked. A message that cannot be decoded (STORE_MESSAGE_INVALID, STORE_DESERIALIZATION_FAILED)
	// goes there on its first failure. Default: 5.
	MaxDeliveries int64
	// DeadLetter is the name of the dead-letter stream, in the same store and scope. Default:
	// "<stream>:dead".
	DeadLetter string
	// LagInterval is how often the group's lag and pending count are reported to the observers
	// (ops.SignalConsumerLag). Negative turns it off. Default: 10s.
	LagInterval time.Duration
	// EnsureStartID is the start id of the group if Consume has to create it ([Group.Ensure]
	// runs first; an existing group keeps its position), and of a group lost while the loop runs
	// before the loop read anything (after that, the last id it read). Default: "0", the whole
	// stream.
	EnsureStartID string
	// StopGrace is how long the loop, once it stops (its ctx is done, or the store closes), waits
	// for handlers still running; their ctx is canceled, so a handler that honours it returns at
	// once. A handler that ignores its ctx longer is reported (an error in the log) and left
	// running: the loop returns, its entry stays pending and is claimed again later (when such a
	// handler returns, its result is dropped). Negative is STORE_CONFIGURATION_INVALID. Default: 10s,
	// the grace Store.Close gives subscription handlers.
	StopGrace time.Duration
}

// DefaultStopGrace is the default ConsumeOptions.StopGrace.
const DefaultStopGrace = 10 * time.Second

func (o ConsumeOptions) withDefaults(stream string) (ConsumeOptions, error) {
	bad := func(field string, v any) error {
		return ops.Invalid(ops.CodeConfigurationInvalid, "stream.consume",
			fmt.Sprintf("ConsumeOptions.%s is invalid: %v", field, v), map[string]any{"field": field})
	}
	switch {
	case o.Concurrency < 0:
		return o, bad("Concurrency", o.Concurrency)
	case o.Batch < 0:
		return o, bad("Batch", o.Batch)
	case o.Block < 0:
		return o, bad("Block", o.Block)
	case o.MaxDeliveries < 0:
		return o, bad("MaxDeliveries", o.MaxDeliveries)
	case o.ClaimInterval < 0:
		return o, bad("ClaimInterval", o.ClaimInterval)
	case o.StopGrace < 0:
		return o, bad("StopGrace", o.StopGrace)
	}
	if o.StopGrace == 0 {
		o.StopGrace = DefaultStopGrace
	}
	if o.Concurrency == 0 {
		o.Concurrency = 1
	}
	if o.Batch == 0 {
		o.Batch = int64(max(10, 2*o.Concurrency))
	}
	if o.Block < time.Millisecond {
		o.Block = time.Second
	}
	if o.ClaimIdle == 0 {
		o.ClaimIdle = 30 * time.Second
	}
	if o.ClaimInterval == 0 {
		o.ClaimInterval = max(o.ClaimIdle/2, time.Millisecond)
	}
	if o.MaxDeliveries == 0 {
		o.MaxDeliveries = 5
	}
	if o.DeadLetter == "" {
		o.DeadLetter = stream + ":dead"
	}
	if o.LagInterval == 0 {
		o.LagInterval = 10 * time.Second
	}
	if o.EnsureStartID == "" {
		o.EnsureStartID = "0"
	}
	return o, nil
}
