package main

import (
	"bytes"
	"context"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), "", &out); err != nil {
		t.Fatal(err)
	}
	want := `acme request 1: allowed, 4 left
acme request 2: allowed, 3 left
acme request 3: allowed, 2 left
acme request 4: allowed, 1 left
acme request 5: allowed, 0 left
acme request 6: 429 Too Many Requests, Retry-After: 12
acme request 7: 429 Too Many Requests, Retry-After: 12
globex request 1: allowed, 4 left
globex request 2: allowed, 3 left
5 webhook calls at 20/s took at least 200ms: true
`
	if out.String() != want {
		t.Fatalf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}
