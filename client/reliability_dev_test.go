package client_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/igniter-go/store/client"
)

// TestReliabilityDevScanCountCapped: Dev.Scan sends at most MaxScanCount as SCAN's COUNT,
// whatever the caller asks; it passed any count to Redis.
func TestReliabilityDevScanCountCapped(t *testing.T) {
	st, _, srv := realStore(t)
	ctx := context.Background()
	stop := srv.Monitor(t)
	if _, err := st.Dev.Scan(ctx, "*", client.ScanOptions{Count: 1 << 40}); err != nil {
		t.Fatal(err)
	}
	cmds := opCommands(stop())
	if len(cmds) != 1 || len(cmds[0]) != 6 || cmds[0][5] != fmt.Sprint(client.MaxScanCount) {
		t.Fatalf("sent %q, want SCAN … COUNT %d", cmds, client.MaxScanCount)
	}
}

// TestReliabilityDevKeysBoundedMemory: the memory Dev.Keys holds does not grow with the number of
// keys it has yielded (it kept every key in a map to drop SCAN's repeats).
func TestReliabilityDevKeysBoundedMemory(t *testing.T) {
	st, raw, _ := realStore(t)
	ctx := context.Background()
	const n = 50_000
	pipe := raw.Pipeline()
	for i := range n {
		pipe.Set(ctx, fmt.Sprintf("igniter:store:api:kv:key-%06d-%s", i, "padding-padding-padding"), "1", 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	var first, last uint64
	seen := 0
	for _, err := range st.Dev.Keys(ctx, "key-*", 500) {
		if err != nil {
			t.Fatal(err)
		}
		seen++
		switch seen {
		case 1000:
			first = heap()
		case n - 1000:
			last = heap()
		}
	}
	if seen < n {
		t.Fatalf("Keys yielded %d keys, want at least %d", seen, n)
	}
	// 48,000 keys of 60 bytes kept in a map are several MiB; one page is a few tens of KiB.
	if last > first && last-first > 1<<20 {
		t.Fatalf("heap grew by %d bytes while Keys yielded %d more keys", last-first, n-2000)
	}
}
