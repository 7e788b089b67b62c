package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/storetest"
	"github.com/igniter-go/store/telemetry"
)

// A non-owner Claim.Release is an answer (STORE_CLAIM_NOT_OWNER, a conflict), not a failure:
// the slog sink logs its error event at INFO, so a logger at WARN or ERROR drops it, while a
// real failure (an invalid key) is still logged at ERROR.
func TestSlogSinkLogsExpectedOutcomesBelowError(t *testing.T) {
	ctx := context.Background()
	var out bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo}))
	st := storetest.New(t, storetest.WithBuilder(func(b *client.Builder) *client.Builder {
		return b.WithService("api").WithTelemetry(telemetry.NewSlogSink(logger))
	}))
	if ok, err := st.Claim.Once(ctx, "job:1", "worker-a", time.Minute); !ok || err != nil {
		t.Fatal(ok, err)
	}
	released, err := st.Claim.Release(ctx, "job:1", "worker-b")
	if released || !ops.HasCode(err, ops.CodeClaimNotOwner) {
		t.Fatalf("non-owner release: %v %v", released, err)
	}
	if _, err := st.KV.Exists(ctx, ""); !ops.HasCode(err, ops.CodeKeyRequired) {
		t.Fatalf("empty key: %v", err)
	}

	levels := map[string]string{}
	for _, line := range bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n")) {
		var rec struct{ Level, Msg string }
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		levels[rec.Msg] = rec.Level
	}
	if got := levels["igniter.store.claim.release.error"]; got != "INFO" {
		t.Fatalf("non-owner release logged at %q, want INFO (all: %v)", got, levels)
	}
	if got := levels["igniter.store.kv.exists.error"]; got != "ERROR" {
		t.Fatalf("invalid key logged at %q, want ERROR (all: %v)", got, levels)
	}
}

// ErrorLevel by outcome: answers (not_found, conflict) at info, failures at error.
func TestErrorLevelByOutcome(t *testing.T) {
	for _, c := range []struct {
		err  error
		want slog.Level
	}{
		{ops.NewError(ops.CodeClaimNotOwner, "claim.release", "held by another", nil), slog.LevelInfo},
		{ops.NewError(ops.CodeLeaseNotAcquired, "lease.acquire", "held", nil), slog.LevelInfo},
		{ops.NewError(ops.CodeSchemaChannelNotFound, "events.publish", "none", nil), slog.LevelInfo},
		{ops.NewError(ops.CodeCircuitOpen, "kv.get", "open", nil), slog.LevelError},
		{ops.Failure(ops.KVGet, ops.ErrUnavailable, context.DeadlineExceeded), slog.LevelError},
		{ops.Invalid(ops.CodeKeyRequired, "kv.get", "Key is required", nil), slog.LevelError},
	} {
		if got := telemetry.ErrorLevel(c.err); got != c.want {
			t.Errorf("%v: %v, want %v", c.err, got, c.want)
		}
	}
}
