// Package drive runs a load loop: N workers calling a step function, closed loop (each worker
// starts its next call when the last returns) or open loop (calls start on a fixed schedule of
// R per second, whatever the target does).
//
// An open loop measures each call's latency from the moment it was scheduled to start, not from
// the moment it did start, as wrk2 does: when the target stalls, the calls that should have
// started during the stall count the time they waited. Measuring from the actual start
// ("coordinated omission") would hide the stall behind the one slow call the worker was stuck in.
// A worker that was idle and slept until its call was due is timed from when it woke: the
// timer's own lateness is the harness's, not the target's.
//
// A warm-up runs first and is not recorded; then the loop runs for a duration, or until an
// operation count, or until its context is done, folding the measurements into a [hist.Set]
// once a second.
package drive
