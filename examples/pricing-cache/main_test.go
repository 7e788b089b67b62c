package main

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/igniter-go/store/examples/internal/harness"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const want = `acme: 200 concurrent requests, 1 database query, price 1999 USD
globex: 200 concurrent requests, 1 database query, price 1799 EUR
unknown SKU asked 3 times: not found, 1 database query
database down, asked 2 times: 2 errors, 2 database queries (errors are not cached)
database back: price 1999 USD
`

func TestExample(t *testing.T) {
	if got := harness.Run(t, run); got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
}

func TestExampleOnRedis(t *testing.T) {
	if got := harness.RunRedis(t, run); got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
}
