// Package redisproc runs a redis-server of the load test's own on a free loopback port, with
// persistence off, and stops it: -start-redis and -chaos use it. The server is started with
// Pdeathsig, so it dies with the harness even if the harness itself is killed.
package redisproc
