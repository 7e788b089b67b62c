// Package schema validates event payloads: a small [Schema] interface, a JSON Schema
// implementation ([JSON], on github.com/santhosh-tekuri/jsonschema/v6), a Go function validator
// ([Func]) and the validation middleware ([New]).
//
// The middleware looks the schema up by the exact event string of a publish (the original
// @igniter-js/store used the first schema found along the path, so "user:created:extra" was
// checked against "user:created"; here it is not). An invalid payload fails the publish with
// STORE_SCHEMA_VALIDATION_FAILED, its issues in the error's Details, and nothing is sent.
//
// The package imports only ops and the JSON Schema library.
package schema
