//go:build !unix

package telemetry_test

import "time"

// cpuTime is 0 where getrusage does not exist: the benchmarks report no cpu-ns/op there.
func cpuTime() time.Duration { return 0 }
