package client

import (
	"strings"
	"testing"

	"github.com/igniter-go/store/internal/keyspace"
)

// Exported to the client_test package, whose cluster test checks them against CLUSTER KEYSLOT.
var (
	LeaseFenceKey       = fenceKeyOf
	LeaseKeySlot        = keyspace.Slot
	LeaseFenceKeyShapes = fenceKeyShapes
)

// fenceKeyOf is the fence key of a claim key, whose prefix is what comes before ":claim:".
func fenceKeyOf(claimKey string) string {
	return fenceKey(claimKey[:strings.Index(claimKey, ":claim:")], claimKey)
}

// fenceKeyShapes are claim keys of every shape the fence layout distinguishes.
var fenceKeyShapes = []string{
	"igniter:store:api:claim:job",
	"igniter:store:api:claim:job:{t7}:sync",
	"igniter:store:api:org:{org_9}:claim:job",
	"igniter:store:api:claim:a}b",
	"igniter:store:api:claim:x{}y",
	"igniter:store:api:claim:}{",
	"igniter:store:api:claim:{a",
	"igniter:store:api:claim:{{a}",
	"igniter:store:api:claim:ключ",
	"igniter:store:api:claim:",
	"igniter:store:api:org:{a:claim:x}y",
	"igniter:store:api:org:{}:claim:job",
	"igniter:store:api:org:{}:claim:job:{t}",
	"igniter:store:a{b:claim:c",
}

func TestLeaseFenceKeyLayout(t *testing.T) {
	want := map[string]string{
		"igniter:store:api:claim:job":             "igniter:store:api:claim.fence:{" + keyspace.SlotTag(keyspace.Slot("igniter:store:api:claim:job")) + "}:job",
		"igniter:store:api:org:{org_9}:claim:job": "igniter:store:api:org:{org_9}:claim.fence:job",
	}
	for k, f := range want {
		if got := fenceKeyOf(k); got != f {
			t.Errorf("fenceKey(%q) = %q, want %q", k, got, f)
		}
	}
	seen := map[string]string{}
	for _, k := range fenceKeyShapes {
		prefix := k[:strings.Index(k, ":claim:")]
		f := fenceKeyOf(k)
		if !strings.HasPrefix(f, prefix+":claim.fence:") {
			t.Errorf("fence key %q is not under its store's prefix %q", f, prefix)
		}
		if other, dup := seen[f]; dup {
			t.Errorf("claim keys %q and %q share fence key %q", k, other, f)
		}
		seen[f] = k
		if keyspace.Slot(f) != keyspace.Slot(k) {
			t.Errorf("fence key %q is in slot %d, its claim key in %d", f, keyspace.Slot(f), keyspace.Slot(k))
		}
		if lf := legacyFenceKey(k); keyspace.Slot(lf) != keyspace.Slot(k) || !strings.HasPrefix(lf, "{") {
			t.Errorf("legacy fence key %q is in slot %d, its claim key in %d", lf, keyspace.Slot(lf), keyspace.Slot(k))
		}
	}
	if got := legacyFenceKey("igniter:store:api:claim:job"); got != "{igniter:store:api:claim:job}:fence" {
		t.Errorf("legacy layout changed: %q", got)
	}
	for slot := range keyspace.HashSlots {
		if tag := keyspace.SlotTag(slot); keyspace.Slot(tag) != slot || strings.ContainsAny(tag, "{}") {
			t.Fatalf("keyspace.SlotTag(%d) = %q hashes to %d", slot, tag, keyspace.Slot(tag))
		}
	}
}

// FuzzLeaseFenceKey: for any user key and scope id, the fence key hashes to the claim key's slot
// and stays under the store's prefix.
func FuzzLeaseFenceKey(f *testing.F) {
	for _, k := range fenceKeyShapes {
		f.Add("o", strings.TrimPrefix(k, "igniter:store:api:claim:"))
	}
	f.Add("{x", "a}b")
	f.Fuzz(func(t *testing.T, id, user string) {
		if strings.ContainsAny(id, ":*?[]\\") {
			return // not a valid scope id
		}
		prefix := "igniter:store:api:org:" + id
		k := prefix + ":claim:" + user
		fk := fenceKey(prefix, k)
		if keyspace.Slot(fk) != keyspace.Slot(k) || !strings.HasPrefix(fk, prefix+":claim.fence:") {
			t.Fatalf("fenceKey(%q) = %q: slot %d vs %d", k, fk, keyspace.Slot(fk), keyspace.Slot(k))
		}
	})
}
