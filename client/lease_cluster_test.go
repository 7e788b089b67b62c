package client_test

import (
	"testing"

	"github.com/igniter-go/store/internal/redistest"
)

// TestLeaseCluster runs the lease suite on a real local Redis Cluster (3 masters): every
// script's keys must share a slot, or Redis answers CROSSSLOT.
func TestLeaseCluster(t *testing.T) {
	c := redistest.StartCluster(t, 3)
	runLeaseSuite(t, newLeaseEnv(t, c.Client(t)))
}
