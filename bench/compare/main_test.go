package main

import (
	"slices"
	"testing"
)

// The report's medians: the middle value, the mean of the two middle ones, "–" for a client
// that reported none (one in another process).
func TestMedianOrDash(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		want string
	}{
		{nil, "–"},
		{[]float64{7}, "7.0"},
		{[]float64{9, 1, 5}, "5.0"},
		{[]float64{4, 1, 3, 2}, "2.5"},
	} {
		if got := medianOrDash(tc.xs, "%.1f"); got != tc.want {
			t.Errorf("medianOrDash(%v) = %q, want %q", tc.xs, got, tc.want)
		}
	}
}

// Each table's ratios are to its own baseline: the single-node clients to goredis, the cluster
// clients to cluster-goredis, in the order given.
func TestGroupsSplitsSingleNodeAndClusterClients(t *testing.T) {
	gs := groups([]string{"goredis", "cluster-goredis", "store-obs", "cluster-store-obs"})
	if len(gs) != 2 || !slices.Equal(gs[0].names, []string{"goredis", "store-obs"}) ||
		!slices.Equal(gs[1].names, []string{"cluster-goredis", "cluster-store-obs"}) {
		t.Fatalf("groups = %+v, want the single-node clients, then the cluster ones", gs)
	}
	if baselineOf("cluster-store-obs") != clusterBaseline || baselineOf("store-obs") != "goredis" {
		t.Fatalf("baselines: %q, %q", baselineOf("cluster-store-obs"), baselineOf("store-obs"))
	}
}

// A client name compare does not know is an error naming it, not a silent skip.
func TestUnknownClientIsAnError(t *testing.T) {
	if _, err := newClient("redis-py", "127.0.0.1:1", config{}); err == nil {
		t.Fatal("newClient(redis-py) succeeded, want an error naming the client")
	}
	if _, err := newClusterClient("cluster-jedis", []string{"127.0.0.1:1"}); err == nil {
		t.Fatal("newClusterClient(cluster-jedis) succeeded, want an error naming the client")
	}
}
