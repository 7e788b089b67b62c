package schema

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/igniter-go/store/ops"
)

// JSON compiles a JSON Schema document (drafts 4 to 2020-12; 2020-12 when it has no $schema).
// JSON Schema is language-neutral: zod 4 emits it (z.toJSONSchema), so one contract serves the
// TypeScript and Go services. References to other documents are not loaded: a schema must be
// self-contained. A document that does not compile is STORE_CONFIGURATION_INVALID.
func JSON(document []byte) (Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(document))
	if err != nil {
		return nil, invalidSchema(err)
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(noLoader{})
	const url = "mem://igniter/event.schema.json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, invalidSchema(err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		return nil, invalidSchema(err)
	}
	return jsonSchema{sch}, nil
}

// MustJSON is JSON for schemas known to be valid (package-level variables); it panics on error.
func MustJSON(document string) Schema {
	s, err := JSON([]byte(document))
	if err != nil {
		panic(err)
	}
	return s
}

func invalidSchema(err error) error {
	return ops.NewError(ops.CodeConfigurationInvalid, "schema", "JSON Schema does not compile", err)
}

type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema: external reference %q is not loaded; inline it", url)
}

type jsonSchema struct{ s *jsonschema.Schema }

func (j jsonSchema) Validate(data []byte) []Issue {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return []Issue{{Code: "decode", Message: "payload is not JSON: " + err.Error()}}
	}
	err = j.s.Validate(v)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []Issue{{Code: "custom", Message: err.Error()}}
	}
	var out []Issue
	leaves(ve, &out)
	// The library walks object properties in map order: sort, so the same payload always gives
	// the same issues in the same order.
	slices.SortStableFunc(out, func(a, b Issue) int {
		if c := slices.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Code, b.Code)
	})
	return out
}

// leaves collects the innermost errors: the ones that say what is wrong, not which combinator
// failed.
func leaves(e *jsonschema.ValidationError, out *[]Issue) {
	if len(e.Causes) > 0 {
		for _, c := range e.Causes {
			leaves(c, out)
		}
		return
	}
	code := ""
	if kp := e.ErrorKind.KeywordPath(); len(kp) > 0 {
		code = kp[len(kp)-1]
	}
	msg := e.Error()
	if after, ok := strings.CutPrefix(msg, "at '"); ok {
		if _, m, found := strings.Cut(after, "': "); found {
			msg = m
		}
	}
	path := append([]string(nil), e.InstanceLocation...)
	if path == nil {
		path = []string{}
	}
	*out = append(*out, Issue{Path: path, Code: code, Message: msg})
}
