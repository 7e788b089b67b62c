package telemetry_test

import (
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/telemetry"
)

// originalNames is the original's catalog (README "Telemetry Events Catalog", 0.1.26), in its
// order: kv 18, counter 9, batch 6, claim 3, events 9, stream 15, dev 3.
var originalNames = func() []string {
	groups := []struct{ group, events string }{
		{"kv", "get set remove exists expire touch"},
		{"counter", "increment decrement expire"},
		{"batch", "get set"},
		{"claim", "acquire"},
		{"events", "publish subscribe unsubscribe"},
		{"stream", "append read range ack group"},
		{"dev", "scan"},
	}
	var out []string
	for _, g := range groups {
		for _, e := range strings.Fields(g.events) {
			for _, p := range []string{"started", "success", "error"} {
				out = append(out, "igniter.store."+g.group+"."+e+"."+p)
			}
		}
	}
	return out
}()

func TestCatalogStartsWithTheOriginal63(t *testing.T) {
	cat := telemetry.Catalog()
	if len(originalNames) != 63 {
		t.Fatalf("the reference list has %d names", len(originalNames))
	}
	var orig []string
	for i, s := range cat {
		if s.Original {
			orig = append(orig, s.Name)
			if i >= 63 {
				t.Errorf("original name %s at position %d", s.Name, i)
			}
		}
		wantLevel := slog.LevelDebug
		if s.Phase == telemetry.PhaseError {
			wantLevel = slog.LevelError
		}
		if s.Phase != telemetry.PhaseSignal && s.Level != wantLevel {
			t.Errorf("%s level %v", s.Name, s.Level)
		}
		if s.Phase != telemetry.PhaseSignal && s.Name != telemetry.Name(s.Kind, s.Phase) {
			t.Errorf("Name(%v, %v) = %s, catalog says %s", s.Kind, s.Phase, telemetry.Name(s.Kind, s.Phase), s.Name)
		}
	}
	if !slices.Equal(orig, originalNames) {
		t.Fatalf("original names\n got %q\nwant %q", orig, originalNames)
	}
}

func TestCatalogNamesAreUniqueAndCoverEveryKindAndSignal(t *testing.T) {
	names := telemetry.Names()
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			t.Errorf("duplicate name %s", n)
		}
		seen[n] = true
		if !strings.HasPrefix(n, telemetry.Prefix) {
			t.Errorf("%s lacks the prefix", n)
		}
	}
	for _, k := range ops.Kinds() {
		for _, p := range []telemetry.Phase{telemetry.PhaseStarted, telemetry.PhaseSuccess, telemetry.PhaseError} {
			if !seen[telemetry.Name(k, p)] {
				t.Errorf("%s missing", telemetry.Name(k, p))
			}
		}
	}
	for _, k := range ops.SignalKinds() {
		if !seen[telemetry.SignalName(k)] {
			t.Errorf("signal %v (%s) missing", k, telemetry.SignalName(k))
		}
	}
	if want := 3*len(ops.Kinds()) + len(ops.SignalKinds()); len(names) != want {
		t.Errorf("%d names, want %d", len(names), want)
	}
}

func TestAddedNamesFollowTheStyle(t *testing.T) {
	for _, c := range []struct {
		k    ops.Kind
		name string
	}{
		{ops.ClaimRelease, "igniter.store.claim.release.started"},
		{ops.LeaseAcquire, "igniter.store.lease.acquire.started"},
		{ops.LeaseExtend, "igniter.store.lease.extend.started"},
		{ops.LeaseRelease, "igniter.store.lease.release.started"},
		{ops.StreamClaim, "igniter.store.stream.claim.started"},
		{ops.StreamPending, "igniter.store.stream.pending.started"},
	} {
		if got := telemetry.Name(c.k, telemetry.PhaseStarted); got != c.name {
			t.Errorf("%v: %s, want %s", c.k, got, c.name)
		}
	}
	if got := telemetry.SignalName(ops.SignalDeadLettered); got != "igniter.store.stream.dead_lettered" {
		t.Errorf("dead letter: %s", got)
	}
}
