// Package archtest holds no code: its test keeps the import rules of DESIGN.md §3 true.
//
//   - ops imports only the standard library.
//   - middleware/<name> never imports another middleware, telemetry or client.
//   - telemetry/… never imports client or middleware.
//   - nothing but client (and programs and tests on top) imports go-redis, except the test
//     helpers under internal/redistest and storetest.
package archtest
