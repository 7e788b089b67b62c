// Package archtest holds no code: its test keeps the import rules of DESIGN.md §3 true.
//
//   - ops imports only the standard library.
//   - middleware/<name> never imports another middleware, telemetry or client.
//   - telemetry/… never imports client or middleware.
//   - client, storetest and events never depend on Prometheus or OpenTelemetry: those SDKs
//     are compiled only by services that wire them.
//   - nothing but client (and programs and tests on top) imports go-redis, except the test
//     helpers under internal/redistest and storetest.
package archtest
