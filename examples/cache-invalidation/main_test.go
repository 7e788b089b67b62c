package main

import (
	"bytes"
	"fmt"
	"testing"

	"go.uber.org/goleak"

	"github.com/igniter-go/store/examples/internal/harness"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const want = `after start: catalog reads 1999 cents
after this store's write: catalog reads 1799 cents
after a go-redis write: catalog reads 1599 cents
after a Node-shaped SET: catalog reads 1499 cents
`

func TestExample(t *testing.T) {
	var diag bytes.Buffer
	if got := harness.Run(t, program(&diag)); got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
}

// On a real server the reads are served from memory and still see every write.
func TestExampleOnRedis(t *testing.T) {
	var diag bytes.Buffer
	if got := harness.RunRedis(t, program(&diag)); got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
	var hits, misses, inval int
	if _, err := fmt.Sscanf(diag.String(), "near cache: %d hits, %d misses, %d invalidations", &hits, &misses, &inval); err != nil {
		t.Fatalf("diag %q: %v", diag.String(), err)
	}
	if hits < 300 || inval < 3 {
		t.Fatalf("near cache: %d hits, %d misses, %d invalidations: want reads from memory and 3 invalidations", hits, misses, inval)
	}
}
