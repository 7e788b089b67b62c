package main

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/igniter-go/store/loadtest/internal/hist"
	"github.com/igniter-go/store/loadtest/internal/report"
)

// schemaFile is the published JSON Schema of the -json report.
const schemaFile = "report.schema.json"

var (
	schemaOnce sync.Once
	schema     *jsonschema.Schema
	schemaErr  error
)

// reportSchema compiles report.schema.json once, with "format" asserted (date-time).
func reportSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	schemaOnce.Do(func() {
		f, err := os.Open(schemaFile)
		if err != nil {
			schemaErr = err
			return
		}
		defer f.Close()
		doc, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			schemaErr = err
			return
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		if schemaErr = c.AddResource(schemaFile, doc); schemaErr != nil {
			return
		}
		schema, schemaErr = c.Compile(schemaFile)
	})
	if schemaErr != nil {
		t.Fatalf("%s: %v", schemaFile, schemaErr)
	}
	return schema
}

// validJSON fails t unless data is a report the schema accepts.
func validJSON(t *testing.T, data []byte) {
	t.Helper()
	if err := checkJSON(t, data); err != nil {
		t.Errorf("the report does not follow %s: %v\n%s", schemaFile, err, data)
	}
}

func checkJSON(t *testing.T, data []byte) error {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return reportSchema(t).Validate(v)
}

// validReport fails t unless r's -json output follows the schema.
func validReport(t *testing.T, r *report.Report) {
	t.Helper()
	var b bytes.Buffer
	if err := report.JSON(&b, r); err != nil {
		t.Fatal(err)
	}
	validJSON(t, b.Bytes())
}

// A report of zero values follows the schema: every field is present (the schema requires
// them all) with its zero value, lists and maps empty rather than null.
func TestZeroReportFollowsTheSchema(t *testing.T) {
	r := &report.Report{Scenario: "kv", Target: report.Target{Kind: report.TargetMiniredis}}
	var b bytes.Buffer
	if err := report.JSON(&b, r); err != nil {
		t.Fatal(err)
	}
	validJSON(t, b.Bytes())
	for _, want := range []string{`"partialReason": ""`, `"lateStarts": 0`, `"notes": []`, `"compare": []`, `"errors": {}`,
		`"service": null`, `"spectrum": []`, `"clientCpuNote": ""`, `"format": 2`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %s in\n%s", want, b.String())
		}
	}
}

// The schema is strict: it rejects a missing field, an unknown one, a latency that is not
// integer nanoseconds, and an unknown target kind.
func TestSchemaRejectsWhatItDoesNotDescribe(t *testing.T) {
	set := hist.NewSet(1)
	set.Record(0, "kv.get", time.Millisecond)
	set.Tick(time.Second)
	ops, all := set.Summaries(time.Second)
	r := &report.Report{Scenario: "kv", Target: report.Target{Kind: report.TargetRedis}, Ops: ops, All: all, Series: set.Series()}
	var b bytes.Buffer
	if err := report.JSON(&b, r); err != nil {
		t.Fatal(err)
	}
	good := b.String()
	validJSON(t, []byte(good))
	for name, bad := range map[string]string{
		"missing field":      strings.Replace(good, `"lateStarts": 0,`, "", 1),
		"unknown field":      strings.Replace(good, `"lateStarts": 0,`, `"lateStarts": 0, "late": 0,`, 1),
		"float latency":      strings.Replace(good, `"p50Ns": 1000447`, `"p50Ns": 1.000447`, 1),
		"unknown kind":       strings.Replace(good, `"kind": "redis"`, `"kind": "redis-ish"`, 1),
		"old field name":     strings.Replace(good, `"atSeconds"`, `"t"`, 1),
		"missing op's field": strings.Replace(good, `"p9999Ns": 1000447,`, "", 1),
	} {
		if bad == good {
			t.Fatalf("%s: the edit did not apply to\n%s", name, good)
		}
		if checkJSON(t, []byte(bad)) == nil {
			t.Errorf("%s: the schema accepted it", name)
		}
	}
}
