package main

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/igniter-go/store/examples/internal/harness"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

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

const want = `PUT  /users/u1  org="acme"    -> 204
GET  /users/u1  org="acme"    -> 200 {"user":{"name":"Ada"}}
GET  /users/u1  org="globex"  -> 404 no such user
GET  /users/u1  org=""        -> 400 STORE_SCOPE_IDENTIFIER_REQUIRED: the request names no tenant
GET  /users/u1  org="a:b"     -> 400 STORE_SCOPE_INVALID: Scope identifier for "organization" cannot contain ':'. Identifiers may not hold ':', glob characters (*?[]\), white space or control characters.
GET  /users/u1  org="acme"    -> 200 {"user":{"name":"Ada"}} (trace 4bf92f3577b34da6a3ce929d0e0e4736)
`
