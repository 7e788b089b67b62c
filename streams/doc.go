// Package streams is the store's Redis Streams feature: append and range, consumer groups
// (Ensure, Read, Ack, Claim, Pending, Lag) and a consume loop with redelivery and dead letters.
// Reach it through a built store's Streams field:
//
//	id, err := store.Streams.Append(ctx, "orders", order, streams.AppendOptions{})
//	g := store.Streams.Group("billing", "worker-1")
//	err = streams.ConsumeAs(ctx, g, "orders", handle, streams.ConsumeOptions{})
//
// Keys are igniter:store:<service>{:<scope>:<id>}*:streams:<name>, and each entry holds its
// message as JSON in one field, data, as @igniter-js/store writes it, so Go and TypeScript
// services share streams. Every operation runs through the store's middleware chain as an
// ops.Op (kinds stream.*); the package reaches the store only through the small
// internal/storecore interface.
//
// Blocking reads (Group.Read with a Block, and every consume loop) run on connections of their
// own (client.Builder.WithStreamConnections, default 8), so they never hold up other operations.
// client.Store.Close stops every consume loop and waits for its handlers, at most
// ConsumeOptions.StopGrace (default 10 s) for one that ignores its ctx.
//
// # Goroutines
//
// Consume runs on the caller's goroutine until ctx ends or the store closes; it starts
// ConsumeOptions.Concurrency worker goroutines, which run the handler, one goroutine that acks
// handled entries and one that keeps the entries in flight from looking idle (XCLAIM … JUSTID
// every ClaimIdle/3). A handler may call client.Store.Close: Close does not wait for the handler
// it is called from.
package streams
