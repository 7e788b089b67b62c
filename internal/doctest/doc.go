// Package doctest holds tests of the project's documentation, the README and the pages of docs/:
// every Go block is a whole file that builds as pasted (a program, or a test file) and is
// gofmt-formatted; the main blocks run against a real Redis and print what their page says;
// no block hard-codes a Redis address (each reads REDIS_ADDR); the README's quick start is
// the client package doc's; and every relative link and #anchor resolves. It has no code of its
// own.
package doctest
