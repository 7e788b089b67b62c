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
//
// # Naming rules
//
// The original checks namespaces (addEvents, addScope) and event or group names
// (IgniterStoreEvents.create, .event, .group) with two different rule sets, so "ignite" or "__x"
// pass one and fail the other, "a:b" and "my ns" the reverse (spec §5.2). This edition applies
// ONE rule set to namespaces, groups and events alike. A name:
//
//  1. is not empty;
//  2. holds no '.' (the original's rule);
//  3. holds no ':' — the colon joins namespace, group and event, so a name is one segment
//     (the original let event names hold ':' and then never found their schema);
//  4. holds no white space or control characters, and is valid UTF-8;
//  5. holds no glob characters * ? [ ] \ — '*' in a subscription means a pattern;
//  6. is not reserved: lowercased, it is not "igniter" or "ign", and it does not start with
//     "igniter-", "igniter_", "ign-", "ign_" or "__". So "ignite", "ignore" and "_x" are fine,
//     "Igniter-x", "ign_x" and "__x" are not.
//
// Errors: STORE_INVALID_NAMESPACE (namespaces) or STORE_INVALID_EVENT_NAME (groups, events)
// for rules 1–5; STORE_RESERVED_NAMESPACE for rule 6; the messages are the original's where it
// has one.
//
// Scope keys (client's AddScope) are not event names: they keep the store's key rules
// (internal/keyspace).
package events
