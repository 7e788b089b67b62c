package keyspace

import (
	"strings"
	"testing"
)

// FuzzBeside: for any scope id and rest, the key is under the prefix, after the segment, and in
// slotOf's slot; two rests never share a key.
func FuzzBeside(f *testing.F) {
	for _, id := range []string{"o1", "{org_9}", "{a", "{}", "a}b", "{}{x}"} {
		f.Add(id, "job", "job:{t}")
	}
	f.Fuzz(func(t *testing.T, id, rest1, rest2 string) {
		if ValidateScopeID("org", id) != nil {
			return
		}
		prefix := New("api").With("org", id).Base()
		k1, k2 := Beside(prefix, "claim.fence", rest1, prefix+":claim:"+rest1), Beside(prefix, "claim.fence", rest2, prefix+":claim:"+rest2)
		if !strings.HasPrefix(k1, prefix+":claim.fence:") || Slot(k1) != Slot(prefix+":claim:"+rest1) {
			t.Fatalf("Beside(%q, %q) = %q: slot %d, want %d", prefix, rest1, k1, Slot(k1), Slot(prefix+":claim:"+rest1))
		}
		if rest1 != rest2 && k1 == k2 {
			t.Fatalf("%q and %q share %q", rest1, rest2, k1)
		}
	})
}
