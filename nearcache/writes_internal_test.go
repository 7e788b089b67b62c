package nearcache

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/ops"
)

// The write table: a key is busy while any write of it is in flight (writes overlap), and after a
// write whose outcome is unknown until a later write of it is acknowledged; a write refused
// before it was sent changes nothing; at most max keys stay unknown, the oldest forgotten first.
func TestWriteTableKeepsKeysBeingWrittenOrOfUnknownOutcome(t *testing.T) {
	w := newWriteTable(3)
	var dropped []string
	drop := func(k string) { dropped = append(dropped, k) }
	lost := ops.NewError(ops.CodeOutcomeUnknown, "kv.set", "reply lost", nil)
	refused := ops.Invalid(ops.CodeTTLInvalid, "kv.set", "bad ttl", nil)

	w.begin("a", drop)
	w.begin("a", drop)
	w.end("a", nil)
	if !w.busy("a") || !w.busyAny() {
		t.Fatal("a with one of two writes still in flight is not busy")
	}
	since := w.changes.Load()
	if !w.readFromRedis("a", since) {
		t.Fatal("a read of a, busy all along, did not read Redis")
	}
	w.end("a", nil)
	if w.busy("a") || w.busyAny() {
		t.Fatal("a is busy after its writes were acknowledged")
	}
	if w.readFromRedis("a", since) || w.readFromRedis("a", w.changes.Load()) {
		t.Fatal("a read across a's last end, or after it, counted as read from Redis")
	}
	if len(dropped) != 2 || dropped[0] != "a" || dropped[1] != "a" {
		t.Fatalf("dropped %q, want a's entry at each beginning", dropped)
	}

	w.begin("b", drop)
	w.end("b", lost)
	w.begin("b", drop)
	w.end("b", refused)
	if !w.busy("b") || !w.busyAny() {
		t.Fatal("b is not busy after a lost write (and a refused one)")
	}
	w.begin("b", drop)
	w.end("b", nil)
	if w.busy("b") {
		t.Fatal("b is busy after a later write was acknowledged")
	}
	// A write that never reached Redis (dropped unwritten by the store's pipeline) changes
	// nothing: it neither marks a key nor clears a mark.
	w.begin("b", drop)
	w.end("b", fmt.Errorf("%w: %w", client.ErrWriteNotSent, lost))
	if w.busy("b") {
		t.Fatal("b is busy after a write that was not sent")
	}
	w.begin("b", drop)
	w.end("b", lost)
	w.begin("b", drop)
	w.end("b", client.ErrWriteNotSent)
	if !w.busy("b") {
		t.Fatal("a write that was not sent cleared b's unknown outcome")
	}
	w.begin("b", drop)
	w.end("b", nil)

	for i := range 5 { // k0 … k4: k0 and k1 are forgotten
		k := "k" + strconv.Itoa(i)
		w.begin(k, drop)
		w.end(k, lost)
	}
	for i, want := range []bool{false, false, true, true, true} {
		if got := w.busy("k" + strconv.Itoa(i)); got != want {
			t.Errorf("k%d busy %v, want %v", i, got, want)
		}
	}
	for range 100 { // marking one key again and again leaves stale marks behind: they are compacted
		w.begin("k4", drop)
		w.end("k4", lost)
	}
	if len(w.order) > 2*len(w.unknown)+16 || len(w.unknown) != 3 {
		t.Fatalf("%d marks for %d unknown keys", len(w.order), len(w.unknown))
	}
	if !w.busy("k2") || !w.busy("k3") || !w.busy("k4") {
		t.Fatal("a compaction forgot a live mark")
	}
}
