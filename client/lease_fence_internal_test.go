package client

import (
	"strings"
	"testing"

	"github.com/igniter-go/store/internal/keyspace"
)

// Exported to the client_test package, whose cluster test checks them against CLUSTER KEYSLOT.
var (
	LeaseFenceKey       = fenceKey
	LeaseKeySlot        = keyspace.Slot
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
		if keyspace.Slot(f) != keyspace.Slot(k) {
			t.Errorf("fence key %q is in slot %d, its claim key in %d", f, keyspace.Slot(f), keyspace.Slot(k))
		}
	}
	for slot := range keyspace.HashSlots {
		if tag := keyspace.SlotTag(slot); keyspace.Slot(tag) != slot || strings.ContainsAny(tag, "{}") {
			t.Fatalf("keyspace.SlotTag(%d) = %q hashes to %d", slot, tag, keyspace.Slot(tag))
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
		if keyspace.Slot(fk) != keyspace.Slot(k) || !strings.HasPrefix(fk, "{") {
			t.Fatalf("fenceKey(%q) = %q: slot %d vs %d", k, fk, keyspace.Slot(fk), keyspace.Slot(k))
		}
	})
}
