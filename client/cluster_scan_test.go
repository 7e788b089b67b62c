package client_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
)

// TestBackendsClusterScan10k: on a 3-primary cluster, 10,000 keys spread over the slots are
// each returned exactly once by a paged Dev.Scan, whose cursors name every primary in turn, and
// Dev.Keys yields the same set.
func TestBackendsClusterScan10k(t *testing.T) {
	c := redistest.StartCluster(t, 3)
	rdb := c.Client(t)
	st, err := client.New().WithService("api").WithAdapter(client.Redis(rdb)).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	const total = 10000
	for start := 0; start < total; start += 500 {
		var entries []client.BatchEntry
		for i := start; i < start+500; i++ {
			entries = append(entries, client.BatchEntry{Key: fmt.Sprintf("item:%d", i), Value: i})
		}
		must(t, st.Batch.Set(ctx, entries...))
	}
	if err := st.KV.Set(ctx, "other", 1, 0); err != nil { // does not match the pattern
		t.Fatal(err)
	}
	slots := map[int]bool{}
	for _, p := range c.Primaries(t) {
		slots[firstSlotOf(t, p.Addr, rdb.ClusterSlots(ctx).Val())] = true
	}

	seen := map[string]int{}
	nodes := map[uint64]bool{}
	opts := client.ScanOptions{Count: 200}
	pages := 0
	for {
		page, err := st.Dev.Scan(ctx, "item:*", opts)
		must(t, err)
		pages++
		for _, k := range page.Keys {
			seen[k]++
		}
		if page.Cursor == "0" {
			break
		}
		n, err := strconv.ParseUint(page.Cursor, 10, 64)
		must(t, err)
		nodes[n>>50] = true
		if pages > 1000 {
			t.Fatal("scan does not end")
		}
		opts.Cursor = page.Cursor
	}
	if len(seen) != total {
		t.Fatalf("scan returned %d distinct keys, want %d", len(seen), total)
	}
	for i := range total {
		if n := seen[fmt.Sprintf("item:%d", i)]; n != 1 {
			t.Fatalf("item:%d returned %d times", i, n)
		}
	}
	for s := range nodes {
		if !slots[int(s)] {
			t.Fatalf("a cursor names slot %d, which is no primary's first slot (%v)", s, slots)
		}
	}
	if len(nodes) != len(slots) {
		t.Fatalf("cursors named %d primaries, want %d", len(nodes), len(slots))
	}
	n := 0
	for _, err := range st.Dev.Keys(ctx, "item:*", 500) {
		must(t, err)
		n++
	}
	if n != total {
		t.Fatalf("Dev.Keys yielded %d keys, want %d", n, total)
	}
	t.Logf("%d keys in %d pages over %d primaries", total, pages, len(nodes))
}

// firstSlotOf returns the lowest slot that addr serves as a primary.
func firstSlotOf(t *testing.T, addr string, ranges []redis.ClusterSlot) int {
	t.Helper()
	low := -1
	for _, r := range ranges {
		if len(r.Nodes) > 0 && r.Nodes[0].Addr == addr && (low < 0 || r.Start < low) {
			low = r.Start
		}
	}
	if low < 0 {
		t.Fatalf("%s serves no slot", addr)
	}
	return low
}
