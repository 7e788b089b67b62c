package redistest

import (
	"syscall"
	"testing"
	"time"
)

// CPUPerOp reports the process's CPU time (user and system, getrusage) per op of b as the
// "cpu-ns/op" metric, beside ns/op: on a shared machine the wall time of a benchmark against
// redis-server is noisy, the client's CPU per op much less. Call it as defer CPUPerOp(b)() after
// the set-up, right before the b.Loop.
func CPUPerOp(b *testing.B) func() {
	start := cpuTime()
	return func() { b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op") }
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
