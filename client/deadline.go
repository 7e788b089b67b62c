package client

import (
	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/ops"
)

// deadlineSettings are the go-redis settings that decide whether a ctx deadline reaches the
// socket: ContextTimeoutEnabled, and read and write timeouts that set socket deadlines at all
// (-2 sets none).
type deadlineSettings struct {
	contextTimeout   bool
	noReadDeadlines  bool
	noWriteDeadlines bool
}

func deadlineSettingsOf(rdb redis.UniversalClient) (deadlineSettings, bool) {
	switch c := rdb.(type) {
	case *redis.Client: // NewClient and NewFailoverClient (Sentinel)
		// NewClient normalizes the timeouts in place: -2 becomes -1, -1 (none) becomes 0.
		o := c.Options()
		return deadlineSettings{o.ContextTimeoutEnabled, o.ReadTimeout < 0, o.WriteTimeout < 0}, true
	case *redis.ClusterClient:
		// NewClusterClient turns -1 into 0 and keeps -2.
		o := c.Options()
		return deadlineSettings{o.ContextTimeoutEnabled, o.ReadTimeout == -2, o.WriteTimeout == -2}, true
	case *redis.Ring:
		// NewRing keeps the timeouts as given; its shards normalize them.
		o := c.Options()
		return deadlineSettings{o.ContextTimeoutEnabled, o.ReadTimeout == -2, o.WriteTimeout == -2}, true
	}
	return deadlineSettings{}, false
}

// checkDeadlines returns STORE_CONFIGURATION_INVALID when the go-redis client would not let a
// caller's deadline bound a command. Without ContextTimeoutEnabled, go-redis reads and writes
// (the connection handshake included) with its own ReadTimeout and WriteTimeout and ignores the
// ctx deadline, so a call to a server that accepts the connection and never answers returns only
// when ReadTimeout (5 s by default) has passed, whatever the caller's deadline. A read or write
// timeout of -2 (no socket deadline at all) has the same effect. The check is Build's, like the
// one of MaxRetries, and reads only the client's options: Build never dials.
func checkDeadlines(rdb redis.UniversalClient) error {
	s, ok := deadlineSettingsOf(rdb)
	if !ok {
		return nil
	}
	if !s.contextTimeout {
		return ops.Invalid(ops.CodeConfigurationInvalid, "build",
			"The go-redis client ignores ctx deadlines (ContextTimeoutEnabled is false), so a call to a Redis that accepts connections and never answers waits out ReadTimeout whatever the caller's deadline. Create it with ContextTimeoutEnabled: true.",
			map[string]any{"contextTimeoutEnabled": false})
	}
	for _, no := range []struct {
		setting, detail string
		on              bool
	}{{"ReadTimeout", "readTimeout", s.noReadDeadlines}, {"WriteTimeout", "writeTimeout", s.noWriteDeadlines}} {
		if no.on {
			return ops.Invalid(ops.CodeConfigurationInvalid, "build",
				"The go-redis client sets no socket deadlines ("+no.setting+" -2), so a ctx deadline cannot end a read or write. Use a positive "+no.setting+", or -1 for none beyond the ctx deadline.",
				map[string]any{no.detail: -2})
		}
	}
	return nil
}
