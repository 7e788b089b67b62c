package client_test

import (
	"context"
	"testing"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/ops"
)

type benchUser struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Age   int    `json:"age"`
	Admin bool   `json:"admin"`
}

var benchValue = []byte(`{"id":"u_1","name":"Avery","age":41,"admin":true}`)

func benchExecutor(context.Context, ops.Op) (ops.Result, error) {
	return ops.Result{Value: benchValue, Bool: true}, nil
}

// BenchmarkExecutorAlone is the baseline: the no-op executor called directly.
func BenchmarkExecutorAlone(b *testing.B) {
	ctx := context.Background()
	op := ops.Op{Kind: ops.KVGet, Key: "igniter:store:api:organization:org_1:kv:user:1"}
	b.ReportAllocs()
	for b.Loop() {
		if res, _ := benchExecutor(ctx, op); !res.Bool {
			b.Fatal("miss")
		}
	}
}

// bareStore is a store with the resilience middleware off: what the store itself costs.
func bareStore(b *testing.B) *client.Store {
	st, err := client.New().WithService("api").WithAdapter(client.HandlerAdapter(benchExecutor)).
		WithoutRetry().WithoutBreaker().WithTimeout(0).Build()
	if err != nil {
		b.Fatal(err)
	}
	return st
}

// BenchmarkKVGetThroughStore is a typed KV.Get of a small JSON object on a scoped store, through
// the store to the same no-op executor: key building, Op, chain and decoding included.
func BenchmarkKVGetThroughStore(b *testing.B) {
	benchKVGet(b, bareStore(b))
}

// BenchmarkKVGetThroughDefaultStore is the same with the default timeout, retry and breaker.
func BenchmarkKVGetThroughDefaultStore(b *testing.B) {
	st, err := client.New().WithService("api").WithAdapter(client.HandlerAdapter(benchExecutor)).Build()
	if err != nil {
		b.Fatal(err)
	}
	benchKVGet(b, st)
}

func benchKVGet(b *testing.B, st *client.Store) {
	org := st.MustScope("organization", "org_1")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		u, found, err := client.GetAs[benchUser](ctx, org.KV, "user:1")
		if err != nil || !found || u.Age != 41 {
			b.Fatal(err)
		}
	}
}

// BenchmarkKVSetThroughStore is a KV.Set of the same object: encoding, key, Op and chain.
func BenchmarkKVSetThroughStore(b *testing.B) {
	st := bareStore(b)
	org := st.MustScope("organization", "org_1")
	ctx := context.Background()
	u := benchUser{ID: "u_1", Name: "Avery", Age: 41, Admin: true}
	b.ReportAllocs()
	for b.Loop() {
		if err := org.KV.Set(ctx, "user:1", u, 0); err != nil {
			b.Fatal(err)
		}
	}
}
