package history

import (
	"fmt"
	"time"

	"github.com/anishathalye/porcupine"
)

// LeaseSlack absorbs the difference between the test's clock and Redis's expiry clock (Redis
// checks expiry against a time it caches per event-loop turn, to the millisecond).
const LeaseSlack = 25 * time.Millisecond

// LeaseOp is the operation of a [LeaseInput].
type LeaseOp string

// The lease's operations.
const (
	LeaseAcquire LeaseOp = "acquire"
	LeaseRelease LeaseOp = "release"
)

// LeaseInput is an acquisition (without waiting) of the lease on Key for TTL, or the release of
// the lease the client acquired with Fence. Call and Return are the operation's own times, set
// by [Recorder.History].
type LeaseInput struct {
	Op     LeaseOp
	Key    string
	Client int
	TTL    time.Duration
	Fence  int64 // the released lease's fence
	Call   int64
	Return int64
	// Maybe: the operation straddled a restart without persistence; it may not have happened in
	// this epoch, and if it did it returned its recorded output.
	Maybe bool
}

// Uncertain returns the input marked Maybe.
func (in LeaseInput) Uncertain() any {
	in.Maybe = true
	return in
}

func (in LeaseInput) key() string { return in.Key }

// WithTimes returns the input with the operation's call and return times.
func (in LeaseInput) WithTimes(call, ret int64) any {
	in.Call, in.Return = call, ret
	return in
}

// LeaseOutput is what an acquisition returned (Ok: acquired, with Fence; not Ok:
// STORE_LEASE_NOT_ACQUIRED), or a release (Ok: released; not Ok: STORE_LEASE_LOST).
type LeaseOutput struct {
	Ok    bool
	Fence int64
}

// leaseState is one key's lease: its holder (-1 for none), the holder's acquisition call and
// return times, and the largest fence handed out.
type leaseState struct {
	Holder           int
	Since, SinceDone int64
	Fence            int64
}

// mayBeExpired reports whether the holder's lease may have expired when an operation that
// returned at ret ran: it ran at ret at the latest, the lease started at Since at the earliest.
func (s leaseState) mayBeExpired(in LeaseInput) bool {
	return in.Return-s.Since >= int64(in.TTL-LeaseSlack)
}

// mayBeLive reports whether the holder's lease may have been live when an operation ran: it ran
// at its call at the earliest, the lease started at SinceDone at the latest.
func (s leaseState) mayBeLive(in LeaseInput) bool {
	return in.Call-s.SinceDone < int64(in.TTL+LeaseSlack)
}

// LeaseModel is a lease per key with fences: at most one holder at a time (an acquisition
// succeeds only when the lease is free or its holder's TTL may have run out, and fails only when
// it may be held), fences strictly increase, and a release succeeds only for the live holder. An
// operation of unknown outcome may or may not have taken effect; a fence handed out by an
// acquisition of unknown outcome is not known, so only later fences' order is checked.
var LeaseModel = (&porcupine.NondeterministicModel{
	Partition: partitionByKey,
	Init:      func() []any { return []any{leaseState{Holder: -1}} },
	Step: func(state, input, output any) []any {
		in := input.(LeaseInput)
		if in.Maybe {
			in.Maybe = false
			return append([]any{state}, leaseStep(state, in, output)...)
		}
		return leaseStep(state, in, output)
	},
	DescribeOperation: func(input, output any) string {
		in := input.(LeaseInput)
		op := fmt.Sprintf("acquire(%q, ttl %v)", in.Key, in.TTL)
		if in.Op == LeaseRelease {
			op = fmt.Sprintf("release(%q, fence %d)", in.Key, in.Fence)
		}
		if in.Maybe {
			op = "maybe (across a restart) " + op
		}
		switch {
		case output == nil:
			return op + " -> ? (maybe applied)"
		case in.Op == LeaseAcquire && output.(LeaseOutput).Ok:
			return fmt.Sprintf("%s -> fence %d", op, output.(LeaseOutput).Fence)
		case in.Op == LeaseAcquire:
			return op + " -> not acquired"
		case output.(LeaseOutput).Ok:
			return op + " -> released"
		}
		return op + " -> lease lost"
	},
	DescribeState: func(state any) string {
		st := state.(leaseState)
		if st.Holder < 0 {
			return fmt.Sprintf("free, last fence %d", st.Fence)
		}
		return fmt.Sprintf("held by client %d since [%v, %v], fence %d", st.Holder, time.Duration(st.Since), time.Duration(st.SinceDone), st.Fence)
	},
}).ToModel()

// leaseStep is LeaseModel's step for an operation that happened.
func leaseStep(state any, in LeaseInput, output any) []any {
	st := state.(leaseState)
	held := st.Holder >= 0
	free := !held || st.mayBeExpired(in)
	switch in.Op {
	case LeaseAcquire:
		taken := leaseState{Holder: in.Client, Since: in.Call, SinceDone: in.Return, Fence: st.Fence}
		if output == nil {
			if free {
				return []any{st, taken}
			}
			return []any{st}
		}
		out := output.(LeaseOutput)
		switch {
		case out.Ok && free && out.Fence > st.Fence:
			taken.Fence = out.Fence
			return []any{taken}
		case !out.Ok && held && st.mayBeLive(in):
			return []any{st}
		}
		return nil
	}
	mine := held && st.Holder == in.Client && st.Fence == in.Fence
	released := leaseState{Holder: -1, Fence: st.Fence}
	if output == nil {
		if mine {
			return []any{st, released}
		}
		return []any{st}
	}
	if out := output.(LeaseOutput); out.Ok {
		if mine && st.mayBeLive(in) {
			return []any{released}
		}
		return nil
	}
	switch {
	case mine && st.mayBeExpired(in):
		return []any{released} // it expired: the key is gone
	case !mine:
		return []any{st}
	}
	return nil
}
