package client_test

import (
	"context"
	"testing"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/ops"
)

// BenchmarkResilienceChain measures what the default timeout, retry and breaker add to a
// successful call, on an executor that does nothing (no Redis).
func BenchmarkResilienceChain(b *testing.B) {
	nop := client.HandlerAdapter(func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{Bool: true}, nil })
	base := client.New().WithService("api").WithAdapter(nop)
	for _, bc := range []struct {
		name string
		b    *client.Builder
	}{
		{"defaults", base},
		{"no-deadline-added", base.WithTimeout(0)},
		{"off", base.WithoutRetry().WithoutBreaker().WithTimeout(0)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			st, err := bc.b.Build()
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := st.KV.Exists(ctx, "k"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
