// Package dashboards builds the Grafana dashboards and the Prometheus recording and alerting
// rules of Igniter Store from Go code, so every query is made of the metric and label names that
// telemetry/opsprom exports and a rename cannot leave a panel silently empty.
//
// It is a module of its own (github.com/igniter-go/store/dashboards) so the Grafana Foundation
// SDK and the Prometheus PromQL parser never enter the library's go.mod.
//
//	cd dashboards && go generate ./...   # rewrites grafana/dashboards/*.json and prometheus/rules.yml
//
// The generated files are committed; TestCommittedFilesAreGenerated fails when they differ from
// what the code generates. What ships:
//
//   - grafana/dashboards/overview.json, events-streams.json, tenancy.json (see [Dashboards]);
//   - prometheus/rules.yml: recording rules and alerts (see [Rules]); prometheus/rules_test.yml
//     holds their promtool unit tests;
//   - prometheus/prometheus.yml and grafana/provisioning/: what docker-compose.yml at the
//     repository root mounts.
package dashboards

//go:generate go run ./cmd/generate
