package keyspace

import (
	"strconv"
	"strings"
)

// Beside returns a key under prefix, "<prefix>:<segment>:…<rest>", in the Redis Cluster hash
// slot of slotOf, for the store's own bookkeeping next to a data key (a lease's fence counter
// beside its claim key, a redrive marker beside its stream), where a script touches both. Being
// under the prefix, it is covered by the ACL rule that confines a tenant to "<prefix>:*".
//
// segment must hold a '.': no scope key (scope keys follow the original's namespace rules, which
// forbid dots) and no namespace has one, so "<prefix>:<segment>:" starts no other key of the
// store, of its scopes or of its parents'. The shape depends on the prefix alone:
//
//	<prefix>:<segment>:{<n>}:<rest>   the prefix holds no '{': <n> is the smallest decimal
//	                                  number that hashes to slotOf's slot (SlotTag)
//	<prefix>:<segment>:<rest>         the prefix holds a hash tag ({…} with text inside): every
//	                                  key under it hashes by that tag, slotOf included
//	<prefix>:<segment>:<n>:<rest>     the prefix holds a '{' that opens no tag (a scope id like
//	                                  "{a" or "{}"): <n> is the smallest decimal number that puts
//	                                  the key in slotOf's slot
//
// so for one prefix and segment the mapping from rest is injective (<n> is a function of the
// slot and ends at the first '}' or ':').
func Beside(prefix, segment, rest, slotOf string) string {
	pre := prefix + ":" + segment + ":"
	open := strings.IndexByte(pre, '{')
	if open < 0 {
		return pre + "{" + SlotTag(Slot(slotOf)) + "}:" + rest
	}
	if end := strings.IndexByte(pre[open+1:], '}'); end > 0 {
		return pre + rest
	}
	slot := Slot(slotOf)
	for n := 0; ; n++ { // the hashed text changes with n: a slot is hit within a few 16384 tries
		if k := pre + strconv.Itoa(n) + ":" + rest; Slot(k) == slot {
			return k
		}
	}
}
