// Package blockconn holds the connections of their own that blocking stream reads use, so a
// read that waits (XREADGROUP BLOCK) never holds up another operation of the store, and the
// registry of consume loops that Store.Close stops and waits for.
//
// One Pool belongs to one built store (the client's core creates it at Build and closes it at
// Close). On a single-node client each leased connection knows its CLIENT ID, so a read is ended
// from another connection (CLIENT UNBLOCK) as soon as its ctx ends; on Cluster and Ring clients
// a read ends at its Block time or at Close.
package blockconn
