package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/igniter-go/store/internal/redistest"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	var out, diag bytes.Buffer
	if err := run(context.Background(), "", &out, &diag); err != nil {
		t.Fatal(err)
	}
	want := `after start: catalog reads 1999 cents
after this store's write: catalog reads 1799 cents
after a go-redis write: catalog reads 1599 cents
after a Node-shaped SET: catalog reads 1499 cents
`
	if out.String() != want {
		t.Fatalf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}

// On a real server the reads are served from memory and still see every write.
func TestRunOnRealRedis(t *testing.T) {
	srv := redistest.Start(t)
	var out, diag bytes.Buffer
	if err := run(context.Background(), srv.Addr, &out, &diag); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(out.String(), "after a Node-shaped SET: catalog reads 1499 cents\n") {
		t.Fatalf("output:\n%s", out.String())
	}
	var hits, misses, inval int
	if _, err := fmt.Sscanf(diag.String(), "near cache: %d hits, %d misses, %d invalidations", &hits, &misses, &inval); err != nil {
		t.Fatalf("diag %q: %v", diag.String(), err)
	}
	if hits < 300 || inval < 3 {
		t.Fatalf("near cache: %d hits, %d misses, %d invalidations: want reads from memory and 3 invalidations", hits, misses, inval)
	}
}
