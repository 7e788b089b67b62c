package keyspace

import (
	"strconv"
	"strings"
	"sync"
)

// HashTag returns the part of key that Redis Cluster hashes: the text between the first '{' and
// the first '}' after it when that text is not empty, else the whole key.
func HashTag(key string) string {
	if s := strings.IndexByte(key, '{'); s >= 0 {
		if e := strings.IndexByte(key[s+1:], '}'); e > 0 {
			return key[s+1 : s+1+e]
		}
	}
	return key
}

// HashSlots is the number of Redis Cluster hash slots.
const HashSlots = 16384

// Slot is Redis Cluster's HASH_SLOT: CRC16 (XMODEM) of the hash tag, mod 16384.
func Slot(key string) int {
	return int(crc16(HashTag(key)) % HashSlots)
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

// SlotTag returns the smallest decimal number whose text hashes to slot. The table is built on
// first use (about 170,000 CRCs, a few milliseconds); only keys holding a '}' but no hash tag
// need it.
func SlotTag(slot int) string {
	slotTagsOnce.Do(func() {
		tags := make([]string, HashSlots)
		left := HashSlots
		for n := 0; left > 0; n++ {
			t := strconv.Itoa(n)
			if s := crc16(t) % HashSlots; tags[s] == "" {
				tags[s] = t
				left--
			}
		}
		slotTags = tags
	})
	return slotTags[slot]
}
