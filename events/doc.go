// Package events defines typed pub/sub events for the store, wire-compatible with
// @igniter-js/store: namespaces, groups and events with one consistent naming rule set
// (names.go), an immutable [Registry] with exact schema lookup, the envelope's byte-exact
// encoding ([AppendEnvelope]) and the original's inbound decoding with legacy wrapping
// ([DecodeMessage]), and typed handles ([Define]).
//
// The package does not import client (client imports it): a typed handle publishes and
// subscribes through a [Source], which *client.Store and client.Events both are.
//
//	var billing = events.NewNamespace("billing")
//	var InvoicePaid = events.Define[Invoice](billing, "invoice_paid", schema.MustJSON(invoiceSchema))
//
//	st, err := client.New().WithAdapter(client.Redis(rdb)).WithService("api").AddEvents(billing).Build()
//	err = InvoicePaid.Publish(ctx, st, Invoice{ID: "in_1"})
//	sub, err := InvoicePaid.Subscribe(ctx, st, func(ctx context.Context, ev events.Envelope[Invoice]) error {…})
//	defer sub.Close()
package events
