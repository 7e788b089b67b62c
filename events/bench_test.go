package events_test

import (
	"testing"
	"time"

	"github.com/igniter-go/store/events"
)

func BenchmarkDecodeMessage(b *testing.B) {
	payload := []byte(`{"type":"user:created","data":{"id":"u1","amount":42},"timestamp":"2026-11-25T17:24:02.284Z","scope":{"key":"workspace","identifier":"ws_2"}}`)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := events.DecodeMessage(payload, "user:created", "user:created", now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendEnvelope(b *testing.B) {
	data := []byte(`{"id":"u1","amount":42}`)
	scope := events.Scope{Key: "workspace", Identifier: "ws_2"}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = events.AppendEnvelope(buf[:0], "user:created", data, ts, scope, "")
	}
}
