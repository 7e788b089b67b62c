// Package keyspace builds the Redis keys of the store and validates the names that go into them.
//
// The layout is the original's, byte for byte (spec §2):
//
//	igniter:store:<service>{:<scopeKey>:<scopeId>}*:<namespace>:<key>
//
// Unlike the original, service names, scope keys and scope ids are validated so that the mapping
// from (service, scope chain, namespace, key) to a Redis key is injective and every prefix is free
// of glob characters: no ':' (it separates segments), none of '*?[]\' (they would widen a SCAN),
// no white space or control characters, and a scope key may not be a namespace name. With those
// rules a key is parsed back unambiguously: scope segments come in (key, id) pairs, and the first
// pair position that holds a namespace name ends the prefix.
package keyspace
