package interop_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
)

// TestCountersAndBatches has both languages change the same counters and batch-set overlapping
// keys at once.
//
// Counters: each language increments two counters n times (every value INCR returned, on both
// sides together, must be 1…2n once each: no increment lost or applied twice) and changes a third
// by +1, -1 and (Go) +5; its total must be the sum of both sides' changes. Each language then
// reads the other's totals equal.
//
// Batches: Node writes keys b:0…b:19 and Go b:10…b:29 in whole batches ({writer, round, key,
// data}) for a number of rounds, while both read b:0…b:29 in one batch get. Both batch writes are
// atomic (the original's MSET; MULTI/EXEC here), so every read sees whole batches: b:0…9 one
// Node round, b:20…29 one Go round, b:10…19 the same tag as one of them; and no reader sees a
// writer's round go back. Afterwards each language reads every key equal to what the other wrote.
func TestCountersAndBatches(t *testing.T) {
	bin := needNode(t)
	srv := redistest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const (
		n      = 5000 // changes per counter per language
		rounds = 300  // batch writes per language
	)
	inc := []string{"hits:a", "hits:b"}
	const mixed = "balance"
	st := newStore(t, srv)
	raw := srv.Client(t)
	node := startNode(t, bin, srv.Addr, "counters")

	// Counters, both languages at once.
	start := time.Now()
	nodeCall := node.start(map[string]any{"cmd": "counters", "inc": inc, "n": n, "mixed": mixed, "concurrency": 16}, nil)
	goValues := map[string][]int64{}
	var mu sync.Mutex
	var goDelta int64
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				for _, k := range inc {
					v, err := st.Counter.Increment(ctx, k)
					if err != nil {
						t.Errorf("increment %s: %v", k, err)
						return
					}
					mu.Lock()
					goValues[k] = append(goValues[k], v)
					mu.Unlock()
				}
				var err error
				d := []int64{1, 5, -1}[i%3]
				switch d {
				case 1:
					_, err = st.Counter.Increment(ctx, mixed)
				case -1:
					_, err = st.Counter.Decrement(ctx, mixed)
				default:
					_, err = st.Counter.IncrementBy(ctx, mixed, d)
				}
				if err != nil {
					t.Errorf("change %s: %v", mixed, err)
					return
				}
				mu.Lock()
				goDelta += d
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	var nc struct {
		Values     map[string][]int64 `json:"values"`
		MixedDelta int64              `json:"mixedDelta"`
	}
	res, err := nodeCall.wait(ctx)
	if err == nil {
		err = json.Unmarshal(res, &nc)
	}
	if err != nil {
		t.Fatalf("node counters: %v", err)
	}
	countersTook := time.Since(start)
	for _, k := range inc {
		all := sortedInts(append(append([]int64(nil), nc.Values[k]...), goValues[k]...))
		for i, v := range all {
			if v != int64(i+1) {
				t.Errorf("%s: the values returned by both languages, sorted, hold %d at %d: an increment was lost or applied twice", k, v, i)
				break
			}
		}
		if len(all) != 2*n {
			t.Errorf("%s: %d values returned, want %d", k, len(all), 2*n)
		}
		checkCounter(ctx, t, st, node, k, 2*n)
	}
	checkCounter(ctx, t, st, node, mixed, nc.MixedDelta+goDelta)
	if got, err := raw.Get(ctx, "igniter:store:"+service+":counter:"+mixed).Int64(); err != nil || got != nc.MixedDelta+goDelta {
		t.Errorf("%s in Redis: %d (%v), want Node's %+d and Go's %+d", mixed, got, err, nc.MixedDelta, goDelta)
	}

	// Batches, both languages at once.
	key := func(i int) string { return "b:" + strconv.Itoa(i) }
	var nodeKeys, goKeys, readKeys []string
	for i := range 30 {
		readKeys = append(readKeys, key(i))
		if i < 20 {
			nodeKeys = append(nodeKeys, key(i))
		}
		if i >= 10 {
			goKeys = append(goKeys, key(i))
		}
	}
	type tagged struct {
		Writer string `json:"writer"`
		Round  int    `json:"round"`
		Key    string `json:"key"`
		Data   entry  `json:"data"`
	}
	seed := make([]client.BatchEntry, len(readKeys))
	for i, k := range readKeys {
		seed[i] = client.BatchEntry{Key: k, Value: tagged{Writer: "seed", Key: k, Data: entryPayload("seed", 0)}}
	}
	if err := st.Batch.Set(ctx, seed...); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	started := make(chan struct{})
	batchCall := node.start(map[string]any{"cmd": "batches", "keys": nodeKeys, "readKeys": readKeys, "rounds": rounds},
		func(json.RawMessage) { close(started) })
	select { // Node writes first, so that the two writers overlap
	case <-started:
	case <-batchCall.done:
		t.Fatalf("node batches: %v", batchCall.err)
	}
	var goReads [][]string
	writing := make(chan struct{})
	var readers sync.WaitGroup
	readers.Go(func() {
		for {
			select {
			case <-writing:
				return
			default:
			}
			items, err := client.BatchGetAs[tagged](ctx, st.Batch, readKeys...)
			if err != nil {
				t.Errorf("batch get: %v", err)
				return
			}
			tags := make([]string, len(items))
			for i, it := range items {
				if it.Found {
					tags[i] = it.Value.Writer + ":" + strconv.Itoa(it.Value.Round)
				}
			}
			goReads = append(goReads, tags)
		}
	})
	for r := 1; r <= rounds; r++ {
		batch := make([]client.BatchEntry, len(goKeys))
		for i, k := range goKeys {
			batch[i] = client.BatchEntry{Key: k, Value: tagged{Writer: "go", Round: r, Key: k, Data: entryPayload("go", r)}}
		}
		if err := st.Batch.Set(ctx, batch...); err != nil {
			t.Error(err)
			break
		}
	}
	close(writing)
	readers.Wait()
	var nb struct {
		Reads [][]*string `json:"reads"`
	}
	res, err = batchCall.wait(ctx)
	if err == nil {
		err = json.Unmarshal(res, &nb)
	}
	if err != nil {
		t.Fatalf("node batches: %v", err)
	}
	batchesTook := time.Since(start)
	nodeReads := make([][]string, len(nb.Reads))
	for i, r := range nb.Reads {
		nodeReads[i] = make([]string, len(r))
		for j, v := range r {
			if v != nil {
				nodeReads[i][j] = *v
			}
		}
	}
	checkBatchReads(t, "Go", goReads)
	checkBatchReads(t, "Node", nodeReads)
	// The writers overlapped: the reads saw b:10…19 pass from one language to the other.
	handovers := 0
	for _, reads := range [][][]string{goReads, nodeReads} {
		for i := 1; i < len(reads); i++ {
			prev, _ := splitTag(reads[i-1][10])
			cur, _ := splitTag(reads[i][10])
			if prev != cur && prev != "seed" {
				handovers++
			}
		}
	}
	if handovers == 0 {
		t.Error("the reads never saw b:10…19 pass between the languages: the writers did not overlap")
	}

	// What one wrote, the other reads equal: every key, read by both, value by value.
	goItems, err := client.BatchGetAs[json.RawMessage](ctx, st.Batch, readKeys...)
	if err != nil {
		t.Fatal(err)
	}
	var nodeItems struct {
		Values []json.RawMessage `json:"values"`
	}
	node.mustCall(ctx, map[string]any{"cmd": "batch.get", "keys": readKeys}, &nodeItems)
	// b:10…19 hold the last batch of whichever language wrote last.
	var mid tagged
	if err := json.Unmarshal(goItems[10].Value, &mid); err != nil || (mid.Writer != "node" && mid.Writer != "go") {
		t.Fatalf("b:10 holds %s (%v)", goItems[10].Value, err)
	}
	for i, k := range readKeys {
		writer := mid.Writer
		switch {
		case i < 10:
			writer = "node"
		case i >= 20:
			writer = "go"
		}
		want := tagged{Writer: writer, Round: rounds, Key: k, Data: entryPayload(writer, rounds)}
		if d := fieldDiff(goItems[i].Value, want); d != "" {
			t.Errorf("%s read by Go: %s", k, d)
		}
		if d := fieldDiff(nodeItems.Values[i], want); d != "" {
			t.Errorf("%s read by Node: %s", k, d)
		}
	}

	report(t, "counters: %d changes in %.1fs (%d per language on 3 counters), every INCR value returned once, totals %d, %d and %+d "+
		"(Node %+d, Go %+d) read equal by both; batches: %d + %d batch sets of 20 keys overlapping on 10, %d + %d whole-batch reads "+
		"(Go, Node) in %.1fs, none torn or going back, b:10…19 seen passing between the languages %d times; final values read equal by both",
		6*n, countersTook.Seconds(), 3*n, 2*n, 2*n, nc.MixedDelta+goDelta, nc.MixedDelta, goDelta,
		rounds, rounds, len(goReads), len(nodeReads), batchesTook.Seconds(), handovers)
}

// checkCounter fails t unless both languages read counter k as want.
func checkCounter(ctx context.Context, t *testing.T, st *client.Store, node *nodeProc, k string, want int64) {
	t.Helper()
	// Go has no counter read either: adding 0 returns the value.
	got, err := st.Counter.IncrementBy(ctx, k, 0)
	if err != nil || got != want {
		t.Errorf("counter %s read by Go: %d (%v), want %d", k, got, err, want)
	}
	var nv struct {
		Value *int64 `json:"value"`
	}
	node.mustCall(ctx, map[string]any{"cmd": "counter.get", "key": k}, &nv)
	if nv.Value == nil || *nv.Value != want {
		t.Errorf("counter %s read by Node: %v, want %d", k, nv.Value, want)
	}
}

// checkBatchReads fails t unless every read saw whole batches and no writer's round went back.
func checkBatchReads(t *testing.T, reader string, reads [][]string) {
	t.Helper()
	if len(reads) == 0 {
		t.Errorf("%s read nothing while the batches were written", reader)
	}
	last := map[string]int{} // writer → round last seen
	bad := 0
	for i, r := range reads {
		a, b, c := uniform(r[:10]), uniform(r[10:20]), uniform(r[20:30])
		torn := a == "" || b == "" || c == "" || (b != a && b != c)
		for _, tag := range []string{a, c} {
			w, round := splitTag(tag)
			if round < last[w] {
				torn = true
			}
			last[w] = round
		}
		if torn {
			bad++
			if bad <= 3 {
				t.Errorf("%s's read %d saw a torn or older batch: %v", reader, i, r)
			}
		}
	}
	if bad > 3 {
		t.Errorf("%s: %d such reads in all", reader, bad)
	}
}

// splitTag splits a "writer:round" tag.
func splitTag(tag string) (writer string, round int) {
	i := strings.LastIndexByte(tag, ':')
	if i < 0 {
		return tag, 0
	}
	round, _ = strconv.Atoi(tag[i+1:])
	return tag[:i], round
}

// uniform returns the tag every one of tags holds, or "" when they differ.
func uniform(tags []string) string {
	for _, s := range tags[1:] {
		if s != tags[0] {
			return ""
		}
	}
	return tags[0]
}
