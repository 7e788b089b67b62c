package dashboards

import (
	"slices"
	"testing"

	"github.com/igniter-go/store/telemetry/opsprom"
)

// TestEveryAlertHasAFiringAndASilentUnitTest: the promtool tests (rules_test.yml) cover each
// alert both ways.
func TestEveryAlertHasAFiringAndASilentUnitTest(t *testing.T) {
	fires, silent := map[string]bool{}, map[string]bool{}
	for _, rt := range ruleTests() {
		if len(rt.firing) > 0 {
			fires[rt.alert] = true
		} else {
			silent[rt.alert] = true
		}
	}
	for _, g := range Rules() {
		for _, r := range g.Rules {
			if r.Alert != "" && (!fires[r.Alert] || !silent[r.Alert]) {
				t.Errorf("%s: firing test %v, silent test %v", r.Alert, fires[r.Alert], silent[r.Alert])
			}
		}
	}
}

// TestLatencyThresholdIsABucket: the latency SLO's bound is a classic bucket boundary, so
// the slow-ratio rules read an exact bucket.
func TestLatencyThresholdIsABucket(t *testing.T) {
	if !slices.Contains(opsprom.DefaultBuckets, LatencyThreshold) {
		t.Fatalf("%v is not one of %v", LatencyThreshold, opsprom.DefaultBuckets)
	}
}
