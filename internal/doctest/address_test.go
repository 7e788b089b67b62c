package doctest

import (
	"regexp"
	"strings"
	"testing"
)

// redisAddrLiteral matches a Go string literal holding a Redis address (host:63xx).
var redisAddrLiteral = regexp.MustCompile(`"[^"\s]*:63\d\d"`)

// fromEnv is the one way a block may name a Redis address: as the default of REDIS_ADDR.
const fromEnv = `cmp.Or(os.Getenv("REDIS_ADDR"), `

// TestBlocksTakeTheAddressFromREDIS_ADDR: no block hard-codes a Redis address. Each one reads
// REDIS_ADDR and falls back to a default (localhost:6379 for a local server), so a reader whose
// Redis is elsewhere runs every block unchanged; and every block that makes a go-redis client
// says where its address comes from.
func TestBlocksTakeTheAddressFromREDIS_ADDR(t *testing.T) {
	clients := 0
	for _, b := range allBlocks(t) {
		for _, loc := range redisAddrLiteral.FindAllStringIndex(b.Src, -1) {
			lit := b.Src[loc[0]:loc[1]]
			if !strings.HasSuffix(b.Src[:loc[0]], fromEnv) {
				t.Errorf("%s hard-codes the Redis address %s: write %s%s)", b, lit, fromEnv, lit)
			}
		}
		if strings.Contains(b.Src, "redis.New") {
			clients++
			if !strings.Contains(b.Src, `os.Getenv("REDIS_ADDR")`) && !strings.Contains(b.Src, `os.Getenv("REDIS_CLUSTER")`) {
				t.Errorf("%s makes a go-redis client without reading REDIS_ADDR (or REDIS_CLUSTER)", b)
			}
		}
	}
	if clients < 10 {
		t.Errorf("found %d blocks that make a go-redis client; expected more (is the block scan broken?)", clients)
	}
}
