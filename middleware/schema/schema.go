package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/igniter-go/store/ops"
)

// Schema validates one encoded payload (JSON bytes). It returns nil when the payload is valid and
// the issues found otherwise. A Schema must be safe for concurrent use.
type Schema interface {
	Validate(data []byte) []Issue
}

// Issue is one reason a payload is invalid, in the shape of the original's (zod's) issues.
type Issue struct {
	// Path locates the offending value: object keys and array indexes, outermost first; empty
	// for the payload itself.
	Path []string `json:"path"`
	// Code names the rule that failed: a JSON Schema keyword ("type", "required"…), "decode"
	// when the payload does not fit the Go type, or "custom" for a Func validator's error.
	Code string `json:"code"`
	// Message says what is wrong.
	Message string `json:"message"`
}

// String formats the issue as "path: message".
func (i Issue) String() string {
	if len(i.Path) == 0 {
		return i.Message
	}
	return strings.Join(i.Path, ".") + ": " + i.Message
}

// Issues is a list of issues that is also an error, so a [Func] validator can return the issues
// it found (return schema.Issues{…}) instead of one message.
type Issues []Issue

// Error joins the issues.
func (is Issues) Error() string {
	parts := make([]string, len(is))
	for i, x := range is {
		parts[i] = x.String()
	}
	return strings.Join(parts, "; ")
}

// Func returns a Schema that decodes the payload into a T (encoding/json) and calls check. A
// payload that does not decode into T is invalid with code "decode"; an error from check is one
// issue with code "custom", or the issues themselves when check returns [Issues].
func Func[T any](check func(T) error) Schema { return funcSchema[T](check) }

type funcSchema[T any] func(T) error

func (f funcSchema[T]) Validate(data []byte) []Issue {
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		var te *json.UnmarshalTypeError
		var path []string
		if errors.As(err, &te) && te.Field != "" {
			path = strings.Split(te.Field, ".")
		}
		return []Issue{{Path: path, Code: "decode", Message: err.Error()}}
	}
	err := f(v)
	if err == nil {
		return nil
	}
	var is Issues
	if errors.As(err, &is) && len(is) > 0 {
		return is
	}
	return []Issue{{Code: "custom", Message: err.Error()}}
}

// Failed returns the error of an invalid payload: STORE_SCHEMA_VALIDATION_FAILED with the
// original's message (`Event payload validation failed for "<event>"`), operation, and Details
// {"event": event, "issues": issues}. The issues are only in Details, not in the error's text
// or cause: their messages may quote payload values, and error text reaches logs and
// telemetry. Read them with [IssuesOf].
func Failed(operation, event string, issues []Issue) *ops.Error {
	return ops.Invalid(ops.CodeSchemaValidationFailed, operation, fmt.Sprintf("Event payload validation failed for %q", event),
		map[string]any{"event": event, "issues": issues})
}

// IssuesOf returns the issues of a STORE_SCHEMA_VALIDATION_FAILED error, or nil.
func IssuesOf(err error) []Issue {
	var e *ops.Error
	if !errors.As(err, &e) || e.Code != ops.CodeSchemaValidationFailed {
		return nil
	}
	is, _ := e.Details["issues"].([]Issue)
	return is
}
