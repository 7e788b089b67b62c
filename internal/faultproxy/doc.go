// Package faultproxy is a TCP proxy for fault tests: it forwards a client's connections to one
// Redis node and, when armed, lets a chosen command reach the server and then drops the
// connection before the server's reply reaches the client. The command ran; the client cannot
// know it did. That is the lost reply that makes a non-idempotent write (INCR, XADD, PUBLISH)
// ambiguous, and that a driver must not answer by sending the command again.
//
// It reads the client's side as RESP arrays, one command at a time. It assumes the client does
// not pipeline on the connection that carries the armed command (go-redis sends one command and
// waits for its reply), so the first bytes the server sends after the armed command are its reply.
package faultproxy
