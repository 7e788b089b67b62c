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
	want := `acme: 200 concurrent requests, 1 database query, price 1999 USD
globex: 200 concurrent requests, 1 database query, price 1799 EUR
unknown SKU asked 3 times: not found, 1 database query
database down, asked 2 times: 2 errors, 2 database queries (errors are not cached)
database back: price 1999 USD
`
	if out.String() != want {
		t.Fatalf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}
