package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/igniter-go/store/internal/redistest"
)

func TestChaosKillsRestartsAndReports(t *testing.T) {
	if redistest.Binary() == "" {
		if os.Getenv(redistest.RequireEnv) != "" {
			t.Fatal("redis-server is not installed")
		}
		t.Skip("SKIPPING: -chaos needs redis-server")
	}
	var out bytes.Buffer
	cfg := config{duration: 4 * time.Second, warmup: 50 * time.Millisecond, concurrency: 4, keys: 50, reads: 0.8, valueSize: 32}
	if err := runChaos(cfg, chaosConfig{on: true, down: 500 * time.Millisecond}, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	t.Log("\n" + out.String())
	for _, want := range []string{"-chaos", "SIGKILLed", "breaker closed→open", "fast-fails (STORE_CIRCUIT_OPEN)", "recovery: first success"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestChaosRefusesAGivenServer(t *testing.T) {
	cfg := config{redisAddr: "127.0.0.1:6379", duration: time.Second, concurrency: 1, keys: 1}
	if err := runChaos(cfg, chaosConfig{on: true, down: time.Second}, &bytes.Buffer{}); err == nil {
		t.Fatal("-chaos with -redis must be refused")
	}
}
