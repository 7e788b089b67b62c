// Package faultproxy is a TCP proxy for fault tests: it forwards a client's connections to one
// Redis node and, when armed, lets a chosen command reach the server and then drops the
// connection before the server's reply reaches the client. The command ran; the client cannot
// know it did. That is the lost reply that makes a non-idempotent write (INCR, XADD, PUBLISH)
// ambiguous, and that a driver must not answer by sending the command again.
//
// It reads the client's side as RESP arrays, one command at a time. Once the armed command has
// gone by, the next bytes the server sends on that connection are dropped with the connection.
// When the client sends one command and waits (a plain go-redis call), those bytes are the armed
// command's reply. When it pipelines (the store's executor), they may be replies to commands
// written before or with the armed one: every command of the batch whose reply was not read
// then fails ambiguously, which is the fault a pipelined batch must survive; tests bound their
// outcome (acknowledged ≤ applied ≤ acknowledged + unknown) rather than expect one lost reply.
package faultproxy
