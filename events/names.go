package events

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/igniter-go/store/ops"
)

// The naming rules are documented in the package comment (doc.go).

// Kinds of name, as they appear in messages.
const (
	kindNamespace = "Namespace"
	kindGroup     = "Group"
	kindEvent     = "Event"
)

// reservedExact and reservedPrefixes make rule 6.
var (
	reservedExact    = []string{"igniter", "ign"}
	reservedPrefixes = []string{"igniter-", "igniter_", "ign-", "ign_", "__"}
)

// ValidateName checks a namespace name.
func ValidateName(name string) error { return validate(name, kindNamespace) }

// ValidateEventName checks an event or group name (one segment, without its namespace).
func ValidateEventName(name string) error { return validate(name, kindEvent) }

func validate(name, kind string) error {
	code := ops.CodeInvalidEventName
	if kind == kindNamespace {
		code = ops.CodeInvalidNamespace
	}
	details := map[string]any{"name": name, "context": kind}
	invalid := func(msg string) error { return ops.Invalid(code, "events", msg, details) }
	switch {
	case name == "":
		return invalid(kind + " name must be a non-empty string")
	case strings.Contains(name, "."):
		return invalid(fmt.Sprintf("%s name %q cannot contain dots (.). Use kebab-case for multi-word names.", kind, name))
	case strings.Contains(name, ":"):
		return invalid(fmt.Sprintf("%s name %q cannot contain colons (:). The colon is added automatically between namespace, group and event.", kind, name))
	}
	if r, bad := badRune(name); bad {
		return invalid(fmt.Sprintf("%s name %q cannot contain %q. Names may not hold white space, control or glob characters (*?[]\\).", kind, name, r))
	}
	lower := strings.ToLower(name)
	for _, p := range reservedExact {
		if lower == p {
			return reserved(kind, name, p)
		}
	}
	for _, p := range reservedPrefixes {
		if strings.HasPrefix(lower, p) {
			return reserved(kind, name, p)
		}
	}
	return nil
}

func reserved(kind, name, prefix string) error {
	return ops.Invalid(ops.CodeReservedNamespace, "events",
		fmt.Sprintf("%s name %q uses reserved prefix %q. Reserved namespaces are for internal Igniter.js use.", kind, name, prefix),
		map[string]any{"name": name, "prefix": prefix, "context": kind})
}

func badRune(s string) (rune, bool) {
	if !utf8.ValidString(s) {
		return utf8.RuneError, true
	}
	for _, r := range s {
		switch r {
		case '*', '?', '[', ']', '\\':
			return r, true
		}
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return r, true
		}
	}
	return 0, false
}

// CheckPublish checks the event string of a publish: a registered event or any other string
// made of one or more ':'-joined segments with no white space, control or glob characters (a
// glob character would reach pattern subscribers as a pattern). Segments are not checked
// against the reserved names: another service may publish those.
func CheckPublish(event string) error { return checkEvent(event, false) }

// CheckSubscribe checks the event string of a subscription: as [CheckPublish], except that '*'
// is allowed and makes the subscription a pattern (PSUBSCRIBE), matching any run of characters,
// ':' included, as Redis globs do.
func CheckSubscribe(event string) (pattern bool, err error) {
	return strings.Contains(event, "*"), checkEvent(event, true)
}

func checkEvent(event string, star bool) error {
	if event == "" {
		return ops.Invalid(ops.CodeInvalidEventName, "events", "Event name must be a non-empty string", nil)
	}
	if !utf8.ValidString(event) {
		return ops.Invalid(ops.CodeInvalidEventName, "events", "Event name must be valid UTF-8", nil)
	}
	for _, r := range event {
		bad := unicode.IsSpace(r) || unicode.IsControl(r)
		switch r {
		case '?', '[', ']', '\\':
			bad = true
		case '*':
			bad = !star
		}
		if bad {
			return ops.Invalid(ops.CodeInvalidEventName, "events",
				fmt.Sprintf("Event %q cannot contain %q: white space, control and glob characters are not allowed (a '*' only in subscriptions).", event, r),
				map[string]any{"name": event})
		}
	}
	return nil
}
