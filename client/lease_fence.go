package client

import (
	"strconv"
	"strings"
	"sync"
)

// fenceSegment names the fence keys' place under a store prefix. It holds a '.', which no scope
// key may (scope keys follow the original's namespace rules) and no namespace has, so
// "<prefix>:claim.fence:" starts no other key of the store, of its scopes or of its parents'.
const fenceSegment = "claim.fence"

// The fencing counter of a lease lives in its own key under the store's prefix, next to the
// lease's claim key <prefix>:claim:<key> (the original's layout, which must not change). Being
// under the prefix, it is covered by the ACL rule that confines a tenant to "<prefix>:*"
// ([Store.ACLRule]). The acquire script touches both keys, so on Redis Cluster both must hash to
// one slot. The layout, for a claim key <prefix>:claim:<key>:
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
// expire: a counter that expired would restart at 1 and hand out a token that is not larger than
// one already issued.
//
// Earlier versions kept the counter at {<claim key>}:fence (see [legacyFenceKey]), outside the
// prefix. The acquire script seeds a missing counter from that legacy key once, so tokens keep
// growing across the upgrade; it only reads it.
func fenceKey(prefix, claimKey string) string {
	pre := prefix + ":" + fenceSegment + ":"
	key := claimKey[len(prefix)+len(":claim:"):]
	open := strings.IndexByte(pre, '{')
	if open < 0 {
		return pre + "{" + slotTag(keySlot(claimKey)) + "}:" + key
	}
	if end := strings.IndexByte(pre[open+1:], '}'); end > 0 {
		return pre + key
	}
	slot := keySlot(claimKey)
	for n := 0; ; n++ { // n < 16384·k for a small k: the hashed text changes with n
		if f := pre + strconv.Itoa(n) + ":" + key; keySlot(f) == slot {
			return f
		}
	}
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
	tag := hashTag(claimKey)
	switch {
	case tag == claimKey && !strings.Contains(claimKey, "}"):
		return "{" + claimKey + "}:fence"
	case tag != claimKey: // a valid tag holds no '}' by construction
		return "{" + tag + "}:fence:" + claimKey
	}
	return "{" + slotTag(keySlot(claimKey)) + "}:fence:" + claimKey
}

// hashTag returns the part of key that Redis Cluster hashes: the text between the first '{' and
// the first '}' after it when that text is not empty, else the whole key.
func hashTag(key string) string {
	if s := strings.IndexByte(key, '{'); s >= 0 {
		if e := strings.IndexByte(key[s+1:], '}'); e > 0 {
			return key[s+1 : s+1+e]
		}
	}
	return key
}

// hashSlots is the number of Redis Cluster hash slots.
const hashSlots = 16384

// keySlot is Redis Cluster's HASH_SLOT: CRC16 (XMODEM) of the hash tag, mod 16384.
func keySlot(key string) int {
	return int(crc16(hashTag(key)) % hashSlots)
}

func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc ^= uint16(s[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

var (
	slotTagsOnce sync.Once
	slotTags     []string
)

// slotTag returns the smallest decimal number whose text hashes to slot. The table is built on
// first use (about 170,000 CRCs, a few milliseconds).
func slotTag(slot int) string {
	slotTagsOnce.Do(func() {
		tags := make([]string, hashSlots)
		left := hashSlots
		for n := 0; left > 0; n++ {
			t := strconv.Itoa(n)
			if s := crc16(t) % hashSlots; tags[s] == "" {
				tags[s] = t
				left--
			}
		}
		slotTags = tags
	})
	return slotTags[slot]
}
