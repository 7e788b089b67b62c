package dashboards_test

import (
	"fmt"

	"github.com/igniter-go/store/dashboards"
)

// The alerts and the SLOs they defend.
func ExampleRules() {
	for _, g := range dashboards.Rules() {
		for _, r := range g.Rules {
			if r.Alert != "" {
				fmt.Println(r.Labels["severity"], r.Alert)
			}
		}
	}
	fmt.Printf("availability %.1f%%, p%.0f ≤ %.0fms\n", dashboards.AvailabilityObjective*100, dashboards.LatencyObjective*100, dashboards.LatencyThreshold*1000)
	// Output:
	// critical IgniterStoreBreakerOpen
	// critical IgniterStoreErrorBudgetBurnFast
	// warning IgniterStoreErrorBudgetBurnSlow
	// critical IgniterStoreLatencyBudgetBurnFast
	// warning IgniterStoreLatencyBudgetBurnSlow
	// warning IgniterStoreConsumerLagGrowing
	// warning IgniterStoreDeadLetters
	// warning IgniterStoreSubscriberDrops
	// availability 99.9%, p99 ≤ 25ms
}
