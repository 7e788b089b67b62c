package client_test

import (
	"context"
	"fmt"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/storetest"
)

// A package working beside the store (package nearcache does this) reports what it did through
// the store's observers; Signal fills in the store's identity, never the scope id.
func ExampleStore_Signal() {
	seen := ops.ObserverFunc(func(_ context.Context, s ops.Signal) {
		fmt.Println(s.Kind, s.Service, s.ScopeKey, s.ScopeDepth, s.N)
	})
	st, err := storetest.Open(storetest.WithBuilder(func(b *client.Builder) *client.Builder {
		return b.WithService("api").WithObserver(seen)
	}))
	if err != nil {
		panic(err)
	}
	defer st.Close()
	tenant := st.MustScope("organization", "org_1")
	tenant.Signal(context.Background(), ops.Signal{Kind: ops.SignalNearInvalidated, N: 1})
	// Output: near_invalidated api organization 1 1
}
