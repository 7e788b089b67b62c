package main

import (
	"context"
	"strings"
	"testing"

	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/loadtest/internal/report"
)

// -cluster: the mixed scenario (every operation family, subscribers and consumer groups) runs
// on a real 3-master Redis Cluster without errors.
func TestMixedScenarioOnACluster(t *testing.T) {
	cl := redistest.StartCluster(t, 3)
	c := quick(t, "-scenario", "mixed", "-cluster", strings.Join(cl.Addrs, ","), "-tenants", "3")
	out := &lineWriter{lines: make(chan string, 100)}
	r, err := run(context.Background(), c, out, nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if r.Target.Kind != report.TargetCluster || r.All.Count == 0 {
		t.Fatalf("target %q, %d ops", r.Target, r.All.Count)
	}
	for _, s := range r.Ops {
		if s.ErrorCount() > 0 {
			t.Errorf("%s: errors %v", s.Op, s.Errors)
		}
	}
	got := map[string]bool{}
	for _, s := range r.Ops {
		got[s.Op] = s.Count > 0
	}
	validReport(t, r)
	for _, op := range []string{"kv.get", "batch.get", "events.deliver", "streams.consume", opAllowed} {
		if !got[op] {
			t.Errorf("no %s measured", op)
		}
	}
}
