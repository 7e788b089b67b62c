package client

import (
	"strings"

	"github.com/igniter-go/store/internal/keyspace"
)

// fenceSegment names the fence keys' place under a store prefix. It holds a '.', which no scope
// key may (scope keys follow the original's namespace rules) and no namespace has, so
// "<prefix>:claim.fence:" starts no other key of the store, of its scopes or of its parents'.
const fenceSegment = "claim.fence"

// The fencing counter of a lease lives in its own key under the store's prefix, next to the
// lease's claim key <prefix>:claim:<key> (the original's layout, which must not change). Being
// under the prefix, it is covered by the ACL rule that confines a tenant to "<prefix>:*"
// ([Store.ACLRule]). The acquire script touches both keys, so on Redis Cluster both must hash to
// one slot. The layout is keyspace.Beside's, for a claim key <prefix>:claim:<key>:
//
//	<prefix>:claim.fence:{<n>}:<key>   the prefix holds no '{': <n> is the smallest decimal
//	                                   number that hashes to the claim key's slot
//	<prefix>:claim.fence:<key>         the prefix holds a hash tag ({…} with text inside): both
//	                                   keys hash by that tag
//	<prefix>:claim.fence:<n>:<key>     the prefix holds a '{' that opens no tag (a scope id like
//	                                   "{a" or "{}"): <n> is the smallest decimal number that puts
//	                                   the fence key in the claim key's slot
//
// Which line applies depends on the prefix alone, and within a line <n> is a function of the
// slot, so the mapping is injective: the rest of the fence key is <key> itself. Fence keys never
// expire: a counter that expired would restart from the clock floor alone (see [Lease.Fence]),
// which is larger than the tokens already issued only within the clock-skew limit. The key holds
// the last token as a decimal integer, as before the clock floor.
//
// Earlier versions kept the counter at {<claim key>}:fence (see [legacyFenceKey]), outside the
// prefix. The acquire script seeds a missing counter from that legacy key once, so tokens keep
// growing across the upgrade (the first acquisition reads it, outside the script; see
// internal/executor's leaseAcquire).
func fenceKey(prefix, claimKey string) string {
	return keyspace.Beside(prefix, fenceSegment, claimKey[len(prefix)+len(":claim:"):], claimKey)
}

// legacyFenceKey is where versions before the fence keys moved under the prefix kept a lease's
// fencing counter:
//
//	{<claim key>}:fence          when the claim key has no hash tag and no '}':
//	                             the braces make Redis hash exactly the claim key
//	{<tag>}:fence:<claim key>    when the claim key has a hash tag <tag>
//	{<n>}:fence:<claim key>      otherwise: <n> is the smallest decimal number that hashes to
//	                             the claim key's slot
//
// Each is in its claim key's slot, so the acquire script can read it.
func legacyFenceKey(claimKey string) string {
	tag := keyspace.HashTag(claimKey)
	switch {
	case tag == claimKey && !strings.Contains(claimKey, "}"):
		return "{" + claimKey + "}:fence"
	case tag != claimKey: // a valid tag holds no '}' by construction
		return "{" + tag + "}:fence:" + claimKey
	}
	return "{" + keyspace.SlotTag(keyspace.Slot(claimKey)) + "}:fence:" + claimKey
}
