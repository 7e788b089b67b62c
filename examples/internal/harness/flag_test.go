package harness

import (
	"flag"
	"testing"
)

// TestRedisFlagDefaultsToREDIS_ADDR: the examples take their Redis from REDIS_ADDR, as the
// programs of the docs do; -redis overrides it, and with neither they run on miniredis.
func TestRedisFlagDefaultsToREDIS_ADDR(t *testing.T) {
	t.Setenv(AddrEnv, "redis.example:6380")
	fs := flag.NewFlagSet("example", flag.ContinueOnError)
	addr := RedisFlag(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if *addr != "redis.example:6380" {
		t.Errorf("-redis defaults to %q, want $%s (redis.example:6380)", *addr, AddrEnv)
	}

	fs = flag.NewFlagSet("example", flag.ContinueOnError)
	addr = RedisFlag(fs)
	if err := fs.Parse([]string{"-redis", "127.0.0.1:7000"}); err != nil {
		t.Fatal(err)
	}
	if *addr != "127.0.0.1:7000" {
		t.Errorf("-redis 127.0.0.1:7000 gives %q", *addr)
	}

	t.Setenv(AddrEnv, "")
	fs = flag.NewFlagSet("example", flag.ContinueOnError)
	addr = RedisFlag(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if *addr != "" {
		t.Errorf("with no -redis and no %s, -redis is %q; want empty (the embedded miniredis)", AddrEnv, *addr)
	}
}
