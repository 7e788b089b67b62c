package events_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/igniter-go/store/events"
	"github.com/igniter-go/store/middleware/schema"
	"github.com/igniter-go/store/ops"
)

func asError(err error, e **ops.Error) bool { return errors.As(err, e) }

var anySchema = schema.Func(func(any) error { return nil })

func TestRegistryDefinitionsAndExactLookup(t *testing.T) {
	ns := events.NewNamespace("user")
	created := events.Define[map[string]any](ns, "created", anySchema)
	email := events.Define[string](ns.Group("notifications"), "email", anySchema)
	plain, err := ns.Event("plain", nil)
	if err != nil || created.Err() != nil || email.Err() != nil {
		t.Fatal(err, created.Err(), email.Err())
	}
	if created.Name() != "user:created" || email.Name() != "user:notifications:email" || plain != "user:plain" {
		t.Fatalf("names %q %q %q", created.Name(), email.Name(), plain)
	}
	r, err := events.Registry{}.With(ns)
	if err != nil {
		t.Fatal(err)
	}
	for event, want := range map[string]bool{
		"user:created": true, "user:notifications:email": true,
		"user:created:extra": false, // the original validated this against user:created
		"user":               false, "user:notifications": false, "user:*": false, "user:plain": false, "other:x": false,
	} {
		if _, ok := r.Lookup(event); ok != want {
			t.Errorf("Lookup(%q) = %v, want %v", event, ok, want)
		}
	}
	if !r.Registered("user:plain") || r.Registered("user:nope") {
		t.Fatal("Registered")
	}
	if got := ns.Events(); !slices.Equal(got, []string{"user:created", "user:notifications:email", "user:plain"}) {
		t.Fatalf("Events() = %q", got)
	}
	// Snapshot: a later definition does not reach the registry.
	_, _ = ns.Event("later", anySchema)
	if _, ok := r.Lookup("user:later"); ok {
		t.Fatal("registry is not a snapshot")
	}
}

func TestRegistryErrors(t *testing.T) {
	code := func(err error) ops.Code { return ops.CodeOf(err) }

	ns := events.NewNamespace("user")
	_, _ = ns.Event("created", nil)
	if _, err := ns.Event("created", nil); code(err) != ops.CodeDuplicateEvent {
		t.Fatalf("duplicate event: %v", err)
	}
	if g := ns.Group("created"); g == nil {
		t.Fatal("nil group")
	} else if _, err := g.Event("x", nil); code(err) != ops.CodeDuplicateEvent {
		t.Fatalf("group named like an event: %v", err)
	}
	if code(ns.Err()) != ops.CodeDuplicateEvent {
		t.Fatalf("first error not kept: %v", ns.Err())
	}
	if _, err := (events.Registry{}).With(ns); code(err) != ops.CodeDuplicateEvent {
		t.Fatalf("With(namespace with error) = %v", err)
	}

	// Groups detect duplicates too (the original's group builder silently replaced).
	ok := events.NewNamespace("ok")
	g := ok.Group("g")
	_, _ = g.Event("e", nil)
	if _, err := g.Event("e", nil); code(err) != ops.CodeDuplicateEvent {
		t.Fatalf("duplicate in group: %v", err)
	}

	if _, err := (events.Registry{}).With(nil); code(err) != ops.CodeMissingNamespace {
		t.Fatalf("nil namespace: %v", err)
	}
	a := events.NewNamespace("billing")
	r, err := events.Registry{}.With(a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.With(events.NewNamespace("billing")); code(err) != ops.CodeDuplicateNamespace {
		t.Fatalf("duplicate namespace: %v", err)
	}
	if code(events.NewNamespace("ign").Err()) != ops.CodeReservedNamespace {
		t.Fatal("reserved namespace accepted")
	}
	bad := events.Define[int](events.NewNamespace("x"), "a.b", nil)
	if bad.Name() != "" || code(bad.Err()) != ops.CodeInvalidEventName {
		t.Fatalf("bad handle: %q %v", bad.Name(), bad.Err())
	}
	if err := bad.Publish(context.Background(), nil, 1); code(err) != ops.CodeInvalidEventName { // the source is never reached
		t.Fatalf("bad handle publish: %v", err)
	}
}
