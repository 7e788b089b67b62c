package events_test

import (
	"testing"

	"github.com/igniter-go/store/events"
	"github.com/igniter-go/store/ops"
)

// One rule set for namespaces, groups and events. The first rows are the inputs of spec §5.2's
// table, on which the original's two rule sets disagree.
func TestNamesOneRuleSet(t *testing.T) {
	for _, c := range []struct {
		name       string
		nsCode     ops.Code // "" = valid
		eventCode  ops.Code
		publishErr bool
	}{
		{"ignite", "", "", false},
		{"__x", ops.CodeReservedNamespace, ops.CodeReservedNamespace, false},
		{"___x", ops.CodeReservedNamespace, ops.CodeReservedNamespace, false},
		{"a:b", ops.CodeInvalidNamespace, ops.CodeInvalidEventName, false},
		{"my ns", ops.CodeInvalidNamespace, ops.CodeInvalidEventName, true},
		{"Igniter-x", ops.CodeReservedNamespace, ops.CodeReservedNamespace, false},
		{"igniter", ops.CodeReservedNamespace, ops.CodeReservedNamespace, false},
		{"IGN", ops.CodeReservedNamespace, ops.CodeReservedNamespace, false},
		{"ign_x", ops.CodeReservedNamespace, ops.CodeReservedNamespace, false},
		{"ignore", "", "", false},
		{"_x", "", "", false},
		{"email-sent", "", "", false},
		{"invoice_paid", "", "", false},
		{"", ops.CodeInvalidNamespace, ops.CodeInvalidEventName, true},
		{"a.b", ops.CodeInvalidNamespace, ops.CodeInvalidEventName, false},
		{"a\tb", ops.CodeInvalidNamespace, ops.CodeInvalidEventName, true},
		{"a*", ops.CodeInvalidNamespace, ops.CodeInvalidEventName, true},
		{"a?", ops.CodeInvalidNamespace, ops.CodeInvalidEventName, true},
		{"a[b]", ops.CodeInvalidNamespace, ops.CodeInvalidEventName, true},
		{"a\\b", ops.CodeInvalidNamespace, ops.CodeInvalidEventName, true},
		{"a\x00", ops.CodeInvalidNamespace, ops.CodeInvalidEventName, true},
		{"\xff", ops.CodeInvalidNamespace, ops.CodeInvalidEventName, true},
		{"ção", "", "", false},
	} {
		if got := ops.CodeOf(events.ValidateName(c.name)); got != c.nsCode {
			t.Errorf("namespace %q: code %q, want %q", c.name, got, c.nsCode)
		}
		if got := ops.CodeOf(events.ValidateEventName(c.name)); got != c.eventCode {
			t.Errorf("event %q: code %q, want %q", c.name, got, c.eventCode)
		}
		g := events.NewNamespace("ns").Group(c.name)
		if _, err := g.Event("e", nil); ops.CodeOf(err) != c.eventCode {
			t.Errorf("group %q: code %q, want %q", c.name, ops.CodeOf(err), c.eventCode)
		}
		if err := events.CheckPublish(c.name); (err != nil) != c.publishErr {
			t.Errorf("publish %q: err %v, want error %v", c.name, err, c.publishErr)
		}
	}
}

func TestNamesReservedDetails(t *testing.T) {
	err := events.ValidateEventName("Ignite_x")
	if err != nil {
		t.Fatalf("Ignite_x: %v (only ign- and ign_ prefixes are reserved)", err)
	}
	err = events.ValidateName("ign-tools")
	var e *ops.Error
	if !asError(err, &e) || e.Code != ops.CodeReservedNamespace || e.Details["prefix"] != "ign-" || e.Status != 400 {
		t.Fatalf("ign-tools: %#v", err)
	}
}

func TestCheckSubscribe(t *testing.T) {
	for _, c := range []struct {
		event   string
		pattern bool
		ok      bool
	}{
		{"user:created", false, true},
		{"user:*", true, true},
		{"*", true, true},
		{"user:?", false, false},
		{"user:[ab]", false, false},
		{"", false, false},
		{"has space", false, false},
	} {
		pattern, err := events.CheckSubscribe(c.event)
		if (err == nil) != c.ok || (c.ok && pattern != c.pattern) {
			t.Errorf("%q: pattern %v err %v; want pattern %v ok %v", c.event, pattern, err, c.pattern, c.ok)
		}
		if err != nil && ops.CodeOf(err) != ops.CodeInvalidEventName {
			t.Errorf("%q: code %s", c.event, ops.CodeOf(err))
		}
	}
	if err := events.CheckPublish("user:*"); err == nil {
		t.Fatal("publish of a glob reached pattern subscribers as a pattern")
	}
}
