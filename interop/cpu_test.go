package interop_test

import (
	"syscall"
	"time"
)

// cpuTime returns this process's CPU time so far (user and system, getrusage), as
// internal/redistest does (which, like these tests, builds on Unix only).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
