package client_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/storetest"
)

// 64 assigners race to give one user a variant, each proposing its own: exactly one stores, and
// every caller — winner and losers — comes back with that same value, which is what Redis holds.
func TestSetIfAbsentConcurrentAssignersAgreeOnOneWinner(t *testing.T) {
	st, raw, _ := realStore(t)
	ctx := context.Background()
	const n = 64
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		winners = make([]string, n)
		stored  = make([]bool, n)
		errs    = make([]error, n)
	)
	for i := range n {
		wg.Go(func() {
			<-start
			winners[i], stored[i], errs[i] = client.SetIfAbsentAs(ctx, st.KV, "ab:checkout:user_42", fmt.Sprintf("variant-%d", i), time.Hour)
		})
	}
	close(start)
	wg.Wait()
	nStored := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("assigner %d: %v", i, errs[i])
		}
		if stored[i] {
			nStored++
			if winners[i] != fmt.Sprintf("variant-%d", i) {
				t.Errorf("assigner %d stored but reports %q", i, winners[i])
			}
		}
		if winners[i] != winners[0] {
			t.Errorf("assigner %d sees %q, assigner 0 sees %q", i, winners[i], winners[0])
		}
	}
	if nStored != 1 {
		t.Fatalf("%d assigners stored a value, want exactly 1", nStored)
	}
	got, err := raw.Get(ctx, "igniter:store:api:kv:ab:checkout:user_42").Result()
	if err != nil || got != `"`+winners[0]+`"` {
		t.Fatalf("Redis holds %q (%v), callers saw %q", got, err, winners[0])
	}
	if ttl := raw.PTTL(ctx, "igniter:store:api:kv:ab:checkout:user_42").Val(); ttl <= 0 || ttl > time.Hour {
		t.Fatalf("the winner's TTL is %v, want (0, 1h]", ttl)
	}
}

func TestSetIfAbsentWireAndErrors(t *testing.T) {
	st, raw, srv := realStore(t)
	ctx := context.Background()
	stop := srv.Monitor(t)
	if ok, err := st.KV.SetIfAbsent(ctx, "idem:evt_1", map[string]int{"n": 1}, 1500*time.Millisecond, nil); !ok || err != nil {
		t.Fatalf("first SetIfAbsent = %v, %v", ok, err)
	}
	var prev map[string]int
	if ok, err := st.KV.SetIfAbsent(ctx, "idem:evt_1", map[string]int{"n": 2}, 0, &prev); ok || err != nil || prev["n"] != 1 {
		t.Fatalf("second SetIfAbsent = %v, %v, existing %v", ok, err, prev)
	}
	cmds := opCommands(stop())
	want := [][]string{
		{"SET", "igniter:store:api:kv:idem:evt_1", `{"n":1}`, "PX", "1500", "NX", "GET"},
		{"SET", "igniter:store:api:kv:idem:evt_1", `{"n":2}`, "NX", "GET"},
	}
	if fmt.Sprint(cmds) != fmt.Sprint(want) {
		t.Fatalf("commands\n got %q\nwant %q", cmds, want)
	}
	_ = raw.RPush(ctx, "igniter:store:api:kv:list", "x").Err()
	if _, err := st.KV.SetIfAbsent(ctx, "list", 1, 0, nil); !ops.HasCode(err, ops.CodeSetFailed) {
		t.Fatalf("WRONGTYPE: %v", err)
	}
	if _, err := st.KV.SetIfAbsent(ctx, "", 1, 0, nil); !ops.HasCode(err, ops.CodeKeyRequired) {
		t.Fatalf("empty key: %v", err)
	}
	if _, err := st.KV.SetIfAbsent(ctx, "k", 1, -time.Second, nil); !ops.HasCode(err, ops.CodeTTLInvalid) {
		t.Fatalf("negative ttl: %v", err)
	}
}

func ExampleKV_SetIfAbsent() {
	st, _ := storetest.Open()
	defer st.Close()
	ctx := context.Background()
	first, _, _ := client.SetIfAbsentAs(ctx, st.KV, "ab:pricing-page:user_1", "B", 30*24*time.Hour)
	again, stored, _ := client.SetIfAbsentAs(ctx, st.KV, "ab:pricing-page:user_1", "A", 30*24*time.Hour)
	fmt.Println(first, again, stored)
	// Output: B B false
}
