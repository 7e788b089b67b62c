package keyspace

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/igniter-go/store/ops"
)

// Root is the constant start of every key.
const Root = "igniter:store"

// The key namespaces. streams is plural, as in the original.
const (
	NamespaceKV      = "kv"
	NamespaceCounter = "counter"
	NamespaceClaim   = "claim"
	NamespaceEvents  = "events"
	NamespaceStreams = "streams"
)

// Namespaces lists the key namespaces; none of them may be used as a scope key.
var Namespaces = []string{NamespaceKV, NamespaceCounter, NamespaceClaim, NamespaceEvents, NamespaceStreams}

// IsNamespace reports whether s is one of [Namespaces].
func IsNamespace(s string) bool {
	switch s {
	case NamespaceKV, NamespaceCounter, NamespaceClaim, NamespaceEvents, NamespaceStreams:
		return true
	}
	return false
}

// ReservedPrefixes is the original's RESERVED_NAMESPACE_PREFIXES.
var ReservedPrefixes = []string{"igniter", "ign", "__internal", "__"}

// badSegmentRune reports whether r may not appear in a service, scope key or scope id.
func badSegmentRune(r rune) bool {
	switch r {
	case ':', '*', '?', '[', ']', '\\':
		return true
	}
	return r == utf8.RuneError || unicode.IsSpace(r) || unicode.IsControl(r)
}

// firstBadRune returns the first forbidden rune of s, or -1 when s is clean.
func firstBadRune(s string) rune {
	for _, r := range s {
		if badSegmentRune(r) {
			return r
		}
	}
	if !utf8.ValidString(s) {
		return utf8.RuneError
	}
	return -1
}

// ValidateService checks a service name: required, and a clean segment.
func ValidateService(service string) error {
	if service == "" {
		return ops.NewError(ops.CodeServiceRequired, "build", "Service name is required. Call WithService before Build.", nil)
	}
	if r := firstBadRune(service); r >= 0 {
		return ops.Invalid(ops.CodeServiceInvalid, "build",
			fmt.Sprintf("Service name %q cannot contain %q. Service names may not hold ':', glob characters (*?[]\\), white space or control characters.", service, r),
			map[string]any{"service": service})
	}
	return nil
}

// ValidateNamespace is the original's ensureValidNamespace, used for scope keys and event
// namespaces (spec §5.2), in its order and with its messages.
func ValidateNamespace(ns string) error {
	if ns == "" {
		return ops.Invalid(ops.CodeInvalidNamespace, "", "Namespace must be a non-empty string", nil)
	}
	if strings.Contains(ns, ".") {
		return ops.Invalid(ops.CodeInvalidNamespace, "",
			fmt.Sprintf("Namespace %q cannot contain dots (.). Use kebab-case for multi-word names.", ns),
			map[string]any{"namespace": ns})
	}
	if strings.Contains(ns, ":") {
		return ops.Invalid(ops.CodeInvalidNamespace, "",
			fmt.Sprintf("Namespace %q cannot contain colons (:). The colon is added automatically between namespace and event name.", ns),
			map[string]any{"namespace": ns})
	}
	lower := strings.ToLower(ns)
	for _, p := range ReservedPrefixes {
		if lower == p || strings.HasPrefix(lower, p+"-") || strings.HasPrefix(lower, p+"_") {
			return ops.Invalid(ops.CodeReservedNamespace, "",
				fmt.Sprintf("Namespace %q is reserved for internal Igniter.js use. Please choose a different namespace.", ns),
				map[string]any{"namespace": ns, "reserved": p})
		}
	}
	return nil
}

// ValidateScopeKey checks a scope key for AddScope and Scope: the original's namespace rules,
// then this edition's segment rules (no glob characters, white space or control characters; not
// a namespace name).
func ValidateScopeKey(key string) error {
	if key == "" {
		return ops.Invalid(ops.CodeScopeKeyRequired, "scope", "Scope key is required", nil)
	}
	if err := ValidateNamespace(key); err != nil {
		return err
	}
	if r := firstBadRune(key); r >= 0 {
		return ops.Invalid(ops.CodeScopeInvalid, "scope",
			fmt.Sprintf("Scope key %q cannot contain %q. Scope keys may not hold glob characters (*?[]\\), white space or control characters.", key, r),
			map[string]any{"scopeKey": key})
	}
	if IsNamespace(key) {
		return ops.Invalid(ops.CodeScopeInvalid, "scope",
			fmt.Sprintf("Scope key %q is a store namespace (%s) and would make keys ambiguous.", key, strings.Join(Namespaces, ", ")),
			map[string]any{"scopeKey": key})
	}
	return nil
}

// ValidateScopeID checks a scope identifier. The error's details never carry the id itself (it may
// name a tenant); the message quotes only the offending character.
func ValidateScopeID(scopeKey, id string) error {
	if id == "" {
		return ops.Invalid(ops.CodeScopeIdentifierRequired, "scope", "Scope identifier is required", map[string]any{"scopeKey": scopeKey})
	}
	if r := firstBadRune(id); r >= 0 {
		return ops.Invalid(ops.CodeScopeInvalid, "scope",
			fmt.Sprintf("Scope identifier for %q cannot contain %q. Identifiers may not hold ':', glob characters (*?[]\\), white space or control characters.", scopeKey, r),
			map[string]any{"scopeKey": scopeKey})
	}
	return nil
}
