package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/telemetry"
)

func TestSlogSinkFollowsTheLoggerLevel(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	mw := telemetry.New(telemetry.NewSlogSink(logger))
	ok := mw(func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{}, nil })
	fail := mw(func(context.Context, ops.Op) (ops.Result, error) {
		return ops.Result{}, ops.Failure(ops.KVSet, ops.ErrUnavailable, io.EOF)
	})
	_, _ = ok(context.Background(), scoped(ops.Op{Kind: ops.KVSet}))
	if buf.Len() != 0 {
		t.Fatalf("debug events logged at info: %s", buf.String())
	}
	_, _ = fail(context.Background(), scoped(ops.Op{Kind: ops.KVSet}))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("want one error line, got %q", lines)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["msg"] != "igniter.store.kv.set.error" || rec["level"] != "ERROR" || rec["ctx.error.code"] != "STORE_CONNECTION_FAILED" {
		t.Fatalf("logged %v", rec)
	}
}

func TestMultiGivesEachSinkWhatItWants(t *testing.T) {
	all := telemetry.NewRecorder()
	errs := levelSink{slog.LevelError, telemetry.NewRecorder()}
	h := telemetry.New(telemetry.Multi(all, nil, errs))(func(context.Context, ops.Op) (ops.Result, error) {
		return ops.Result{}, ops.Failure(ops.KVGet, ops.ErrFailed, io.EOF)
	})
	_, _ = h(context.Background(), scoped(ops.Op{Kind: ops.KVGet}))
	if len(all.Events()) != 2 || len(errs.Events()) != 1 {
		t.Fatalf("all got %v, errs got %v", all.Names(), errs.Names())
	}
	all.Reset()
	if len(all.Events()) != 0 {
		t.Fatal("Reset kept events")
	}
}

func TestNilSinksDoNothing(t *testing.T) {
	h := telemetry.New(nil)(func(context.Context, ops.Op) (ops.Result, error) { return ops.Result{Int: 4}, nil })
	if res, err := h(context.Background(), ops.Op{Kind: ops.KVGet}); res.Int != 4 || err != nil {
		t.Fatal(res, err)
	}
	telemetry.NewObserver(nil).Observe(context.Background(), ops.Signal{Kind: ops.SignalDropped})
}
