package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/igniter-go/store/internal/redistest"
)

func TestRunPrintsAReportOnTheEmbeddedRedis(t *testing.T) {
	var out bytes.Buffer
	cfg := config{duration: 200 * time.Millisecond, warmup: 50 * time.Millisecond, concurrency: 4, keys: 100, reads: 0.8, valueSize: 64}
	if err := run(cfg, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"embedded miniredis", "kv.get", "kv.set", "p99.9", "all"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunAgainstARealRedis(t *testing.T) {
	srv := redistest.Start(t)
	var out bytes.Buffer
	cfg := config{redisAddr: srv.Addr, duration: 200 * time.Millisecond, warmup: 10 * time.Millisecond, concurrency: 4, keys: 50, reads: 0.5, valueSize: 32}
	if err := run(cfg, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "redis "+srv.Addr) {
		t.Fatalf("report:\n%s", out.String())
	}
}

func TestBadFlags(t *testing.T) {
	for _, cfg := range []config{
		{duration: 0, concurrency: 1, keys: 1},
		{duration: time.Second, concurrency: 0, keys: 1},
		{duration: time.Second, concurrency: 1, keys: 1, reads: 2},
	} {
		if err := run(cfg, &bytes.Buffer{}); err == nil {
			t.Errorf("%+v must be refused", cfg)
		}
	}
}
