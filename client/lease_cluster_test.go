package client_test

import (
	"context"
	"testing"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
)

// TestLeaseCluster runs the lease suite on a real local Redis Cluster (3 masters): every
// script's keys must share a slot, or Redis answers CROSSSLOT.
func TestLeaseCluster(t *testing.T) {
	c := redistest.StartCluster(t, 3)
	rdb := c.Client(t)
	t.Run("FenceKeySlots", func(t *testing.T) {
		// The slot arithmetic agrees with the server, and each fence key is in its claim key's slot.
		ctx := context.Background()
		for _, k := range client.LeaseFenceKeyShapes {
			f := client.LeaseFenceKey(k)
			ks, err := rdb.ClusterKeySlot(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			fs, err := rdb.ClusterKeySlot(ctx, f).Result()
			if err != nil {
				t.Fatal(err)
			}
			if ks != fs || int(ks) != client.LeaseKeySlot(k) {
				t.Errorf("claim key %q slot %d (ours %d), fence key %q slot %d", k, ks, client.LeaseKeySlot(k), f, fs)
			}
		}
	})
	runLeaseSuite(t, newLeaseEnv(t, rdb))
}
