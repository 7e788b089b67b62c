package client

import (
	"github.com/igniter-go/store/events"
	"github.com/igniter-go/store/internal/keyspace"
)

// ACLOptions shape the rule [Store.ACLRule] derives.
type ACLOptions struct {
	// Patterns are the event patterns ("user:*") the tenant subscribes to. Redis checks a
	// PSUBSCRIBE pattern literally against the user's channel rules (a pattern is allowed only
	// when the rule holds exactly that pattern), so each needs its own "&" rule; exact event
	// subscriptions need nothing here. A pattern that is not a valid subscription
	// (events.CheckSubscribe) is left out. Default: none.
	Patterns []string
	// Scan allows SCAN, which Dev.Scan and Dev.Keys use. Redis ACLs cannot confine SCAN: its
	// MATCH pattern is the client's, so a user allowed SCAN can list the names (not the values)
	// of every key of the database. Default: false (Dev.Scan fails with a coded error wrapping
	// NOPERM).
	Scan bool
	// NoLegacyFences leaves out the read-only access to the lease fence keys that versions
	// before fence keys moved under the prefix wrote ("{<claim key>}:fence"), from which a new
	// fence counter starts. Set it for a tenant that never took a lease with such a version.
	// Default: false.
	NoLegacyFences bool
	// NearCache allows what a nearcache.Near logged in as the tenant sends on its own client:
	// CLIENT TRACKING (server-assisted caching; refused, go-redis turns the cache off and only
	// logs it) and PTTL (the expiry of each fetched key, under the same key rules). Default:
	// false (a near cache's reads fail with a coded error wrapping NOPERM).
	NearCache bool
}

// aclCommands are the commands the store sends: KV, counters, batch, claims and leases
// (scripts run their commands under the same rule), the recipes (SET … NX GET, TIME in the rate
// limiter's script), events, streams (XDEL by redrive), cluster topology, and
// CLIENT ID/UNBLOCK, which end a blocking stream read when its ctx ends. On a cluster go-redis
// also sends ASKING before a command it follows to the target of an ASK redirect (a slot being
// migrated), and COMMAND, whose table it reads before routing a command and caches only when
// the read succeeds (refused, it is asked again for every command, 3 nodes each time, and logs
// the refusal). COMMAND and its subcommands only describe Redis's commands. go-redis's CLIENT
// SETINFO is left out: go-redis ignores its error, and Redis before 7.2 rejects a rule naming it.
// (CLIENT UNBLOCK can end any client's blocking read; the reader just reads again.)
var aclCommands = []string{
	"get", "set", "setnx", "mget", "mset", "exists", "del", "expire", "pexpire", "persist", "incr", "incrby",
	"multi", "exec", "discard", "evalsha", "eval",
	"publish", "subscribe", "psubscribe", "unsubscribe", "punsubscribe", "ping",
	"xadd", "xrange", "xrevrange", "xreadgroup", "xack", "xgroup|create", "xautoclaim", "xclaim", "xpending",
	"xinfo|groups", "xlen", "xdel", "time",
	"client|id", "client|unblock", "cluster|slots", "cluster|shards", "readonly", "asking", "command",
}

// ACLRule returns the Redis ACL rules that confine a Redis user to this store's scope: its keys
// ("~<prefix>:*", which holds every key of this store and of the stores scoped from it, lease
// fence keys included), its event channels ("&<prefix>:*", plus one "&" rule per subscribed
// pattern), and the commands the store sends, nothing else. Pass them after the user's name and
// password:
//
//	ACL SETUSER tenant-o1 on >secret resetkeys ~igniter:store:api:org:o1:* resetchannels &igniter:store:api:org:o1:* -@all +get …
//
// and give the tenant's store a go-redis client that logs in as that user (Options.Username,
// Options.Password). Every feature then works except Dev.Scan (see [ACLOptions.Scan]); a key,
// channel or command outside the rule fails with the operation's coded error wrapping Redis's
// NOPERM reply. The prefix holds no glob character (scope ids are validated), so the rule matches
// exactly the scope's names. With no scope, the rule confines a user to the service.
func (s *Store) ACLRule(opts ACLOptions) []string {
	prefix := s.prefix.Base()
	rules := []string{"resetkeys", "~" + prefix + ":*"}
	if !opts.NoLegacyFences {
		// Read only: the first acquisition of a lease reads its legacy fence key (GET, outside
		// the script) to start the new counter from it.
		rules = append(rules, "%R~{"+prefix+":*}:fence", "%R~{*}:fence:"+prefix+":*")
	}
	rules = append(rules, "resetchannels", "&"+prefix+":*")
	for _, p := range opts.Patterns {
		if pattern, err := events.CheckSubscribe(p); err == nil && pattern {
			rules = append(rules, "&"+s.prefix.Key(keyspace.NamespaceEvents, p))
		}
	}
	rules = append(rules, "-@all")
	for _, c := range aclCommands {
		rules = append(rules, "+"+c)
	}
	if opts.Scan {
		rules = append(rules, "+scan")
	}
	if opts.NearCache {
		rules = append(rules, "+pttl", "+client|tracking")
	}
	return rules
}
