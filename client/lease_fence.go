package client

import (
	"strconv"
	"strings"
	"sync"
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
// first use (about 170,000 CRCs, a few milliseconds); only keys holding a '}' but no hash tag
// need it.
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
