package client_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/ops"
)

// A store on Redis Cluster: the go-redis cluster client runs with its retries off, as on one
// node; the store keeps MOVED/ASK redirects and reports a write whose reply was lost as
// STORE_OUTCOME_UNKNOWN instead of letting go-redis send it again.
func ExampleRedis_cluster() {
	rdb := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:                 []string{"127.0.0.1:7000", "127.0.0.1:7001", "127.0.0.1:7002"},
		MaxRetries:            -1,
		ContextTimeoutEnabled: true,
	})
	st, err := client.New().WithService("api").WithAdapter(client.Redis(rdb, client.OwnClient())).Build()
	if err != nil {
		panic(err)
	}
	defer st.Close()
	n, err := st.Counter.Increment(context.Background(), "orders")
	switch {
	case ops.HasCode(err, ops.CodeOutcomeUnknown):
		fmt.Println("the increment may or may not have been applied: reconcile, do not blindly retry")
	case errors.Is(err, ops.ErrUnavailable):
		fmt.Println("the cluster is unreachable: nothing was applied")
	case err == nil:
		fmt.Println("orders:", n)
	}
}
