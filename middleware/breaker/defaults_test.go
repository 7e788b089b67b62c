package breaker_test

import (
	"testing"
	"time"

	"github.com/igniter-go/store/middleware/breaker"
)

// Zero fields mean their defaults whatever else is set: Name "redis", 5 failures, open 1s,
// 1 probe.
func TestSettingsZeroFieldsMeanDefaults(t *testing.T) {
	for _, tc := range []struct {
		name      string
		s         breaker.Settings
		failures  int  // failures that open it
		staysOpen bool // the open timeout is long (the 1s default or more): no half-open at once
		probes    int  // successful probes that close it
	}{
		{"zero value", breaker.Settings{}, 5, true, 1},
		{"Failures only", breaker.Settings{Failures: 2}, 2, true, 1},
		{"Timeout only", breaker.Settings{Timeout: time.Nanosecond}, 5, false, 1},
		{"Probes only", breaker.Settings{Probes: 3, Timeout: time.Nanosecond}, 5, false, 3},
		{"Name only", breaker.Settings{Name: "cache"}, 5, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, tc.s)
			want := tc.s.Name
			if want == "" {
				want = "redis"
			}
			if d.b.Name() != want {
				t.Fatalf("name %q, want %q", d.b.Name(), want)
			}
			d.run(down, tc.failures-1)
			d.want(breaker.StateClosed, tc.failures-1)
			d.run(down, 1)
			if tc.staysOpen {
				d.want(breaker.StateOpen, tc.failures, "closed>open")
				return
			}
			d.want(breaker.StateHalfOpen, tc.failures, "closed>open", "open>half-open")
			d.run(nil, tc.probes-1)
			d.want(breaker.StateHalfOpen, tc.failures+tc.probes-1, "closed>open", "open>half-open")
			d.run(nil, 1)
			d.want(breaker.StateClosed, tc.failures+tc.probes, "closed>open", "open>half-open", "half-open>closed")
		})
	}
}
