package client

import (
	"strings"

	"github.com/igniter-go/store/internal/keyspace"
)

// The fencing counter of a lease lives in its own key, next to the lease's claim key
// (igniter:store:…:claim:<key>, the original's layout, which must not change). The acquire
// script touches both, so on Redis Cluster both must hash to one slot, and the fence key must
// never be a key the store (or a user's claim) could use. The layout:
//
//	{<claim key>}:fence          when the claim key has no hash tag and no '}':
//	                             the braces make Redis hash exactly the claim key
//	{<tag>}:fence:<claim key>    when the claim key has a hash tag <tag> (a scope id or key
//	                             like "{tenant}"): Redis hashes both keys by <tag>
//	{<n>}:fence:<claim key>      otherwise (a '}' but no valid tag, e.g. "a}b"): <n> is the
//	                             smallest decimal number that hashes to the claim key's slot
//
// Every fence key starts with '{' and no store key does, so none can collide with a store key;
// and the mapping is injective (the text up to the first '}' is the tag, the rest is fixed or
// the claim key itself). Fence keys never expire: a counter that expired would restart at 1 and
// hand out a token that is not larger than one already issued.
func fenceKey(claimKey string) string {
	tag := keyspace.HashTag(claimKey)
	switch {
	case tag == claimKey && !strings.Contains(claimKey, "}"):
		return "{" + claimKey + "}:fence"
	case tag != claimKey: // a valid tag holds no '}' by construction
		return "{" + tag + "}:fence:" + claimKey
	}
	return "{" + keyspace.SlotTag(keyspace.Slot(claimKey)) + "}:fence:" + claimKey
}
