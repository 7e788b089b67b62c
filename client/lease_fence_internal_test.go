package client

import (
	"strings"
	"testing"
)

// Exported to the client_test package, whose cluster test checks them against CLUSTER KEYSLOT.
var (
	LeaseFenceKey       = fenceKey
	LeaseKeySlot        = keySlot
	LeaseFenceKeyShapes = fenceKeyShapes
)

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
}

func TestLeaseFenceKeyLayout(t *testing.T) {
	want := map[string]string{
		"igniter:store:api:claim:job":             "{igniter:store:api:claim:job}:fence",
		"igniter:store:api:claim:job:{t7}:sync":   "{t7}:fence:igniter:store:api:claim:job:{t7}:sync",
		"igniter:store:api:org:{org_9}:claim:job": "{org_9}:fence:igniter:store:api:org:{org_9}:claim:job",
	}
	for k, f := range want {
		if got := fenceKey(k); got != f {
			t.Errorf("fenceKey(%q) = %q, want %q", k, got, f)
		}
	}
	seen := map[string]string{}
	for _, k := range fenceKeyShapes {
		f := fenceKey(k)
		if !strings.HasPrefix(f, "{") || strings.HasPrefix(f, "igniter:store:") {
			t.Errorf("fence key %q could collide with a store key", f)
		}
		if other, dup := seen[f]; dup {
			t.Errorf("claim keys %q and %q share fence key %q", k, other, f)
		}
		seen[f] = k
		if keySlot(f) != keySlot(k) {
			t.Errorf("fence key %q is in slot %d, its claim key in %d", f, keySlot(f), keySlot(k))
		}
	}
	for slot := range hashSlots {
		if tag := slotTag(slot); keySlot(tag) != slot || strings.ContainsAny(tag, "{}") {
			t.Fatalf("slotTag(%d) = %q hashes to %d", slot, tag, keySlot(tag))
		}
	}
}

// FuzzLeaseFenceKey: for any user key, the fence key hashes to the claim key's slot and is not a
// store key.
func FuzzLeaseFenceKey(f *testing.F) {
	for _, k := range fenceKeyShapes {
		f.Add(strings.TrimPrefix(k, "igniter:store:api:claim:"))
	}
	f.Fuzz(func(t *testing.T, user string) {
		k := "igniter:store:api:claim:" + user
		fk := fenceKey(k)
		if keySlot(fk) != keySlot(k) || !strings.HasPrefix(fk, "{") {
			t.Fatalf("fenceKey(%q) = %q: slot %d vs %d", k, fk, keySlot(fk), keySlot(k))
		}
	})
}
