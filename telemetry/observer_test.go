package telemetry_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/telemetry"
)

func TestObserverTurnsEverySignalIntoItsEvent(t *testing.T) {
	retryErr := ops.Failure(ops.KVGet, ops.ErrUnavailable, io.EOF)
	handlerErr := ops.NewError(ops.CodeHandlerFailed, "", "handler failed", nil)
	scope := []string{"ctx.store.scope_key=organization", "ctx.store.scope_depth=1"}
	b := func(ns string) []string {
		return cat([]string{"ctx.store.service=svc", "ctx.store.namespace=" + ns}, scope)
	}
	cases := []struct {
		sig   ops.Signal
		name  string
		level slog.Level
		attrs []string
	}{
		{ops.Signal{Kind: ops.SignalDelivered, Name: "user:created", Duration: 2 * time.Millisecond},
			"igniter.store.events.delivered", slog.LevelDebug, cat(b("events"), []string{"ctx.events.channel=user:created", "ctx.duration_ms=2"})},
		{ops.Signal{Kind: ops.SignalDropped, Name: "user:created", N: 3},
			"igniter.store.events.dropped", slog.LevelWarn, cat(b("events"), []string{"ctx.events.channel=user:created", "ctx.events.dropped=3"})},
		{ops.Signal{Kind: ops.SignalReconnected, N: 4, Duration: time.Second},
			"igniter.store.events.reconnected", slog.LevelInfo, cat(b("events"), []string{"ctx.events.subscriptions=4", "ctx.duration_ms=1000"})},
		{ops.Signal{Kind: ops.SignalHandlerFailed, Name: "user:created", Err: handlerErr},
			"igniter.store.consumer.handler_failed", slog.LevelError, cat(b("events"), []string{"ctx.events.channel=user:created", "ctx.duration_ms=0",
				"ctx.error.operation=events.deliver", "ctx.error.code=STORE_HANDLER_FAILED", "ctx.error.message=handler failed"})},
		{ops.Signal{Kind: ops.SignalHandlerFailed, Name: "orders", Group: "billing", Err: handlerErr},
			"igniter.store.consumer.handler_failed", slog.LevelError, cat(b("stream"), []string{"ctx.stream.name=orders", "ctx.stream.group=billing", "ctx.duration_ms=0",
				"ctx.error.operation=stream.consume", "ctx.error.code=STORE_HANDLER_FAILED", "ctx.error.message=handler failed"})},
		{ops.Signal{Kind: ops.SignalMessageInvalid, Name: "user:created", Err: ops.NewError(ops.CodeMessageInvalid, "", "bad envelope", nil)},
			"igniter.store.consumer.message_invalid", slog.LevelWarn, cat(b("events"), []string{"ctx.events.channel=user:created",
				"ctx.error.operation=events.deliver", "ctx.error.code=STORE_MESSAGE_INVALID", "ctx.error.message=bad envelope"})},
		{ops.Signal{Kind: ops.SignalConsumed, Name: "orders", Group: "billing", Duration: time.Millisecond},
			"igniter.store.stream.consumed", slog.LevelDebug, cat(b("stream"), []string{"ctx.stream.name=orders", "ctx.stream.group=billing", "ctx.duration_ms=1"})},
		{ops.Signal{Kind: ops.SignalRedelivered, Name: "orders", Group: "billing", Err: handlerErr},
			"igniter.store.stream.redelivered", slog.LevelWarn, cat(b("stream"), []string{"ctx.stream.name=orders", "ctx.stream.group=billing",
				"ctx.error.operation=stream.consume", "ctx.error.code=STORE_HANDLER_FAILED", "ctx.error.message=handler failed"})},
		{ops.Signal{Kind: ops.SignalReclaimed, Name: "orders", Group: "billing", N: 5},
			"igniter.store.stream.reclaimed", slog.LevelInfo, cat(b("stream"), []string{"ctx.stream.name=orders", "ctx.stream.group=billing", "ctx.stream.count=5"})},
		{ops.Signal{Kind: ops.SignalDeadLettered, Name: "orders", Group: "billing", N: 6},
			"igniter.store.stream.dead_lettered", slog.LevelError, cat(b("stream"), []string{"ctx.stream.name=orders", "ctx.stream.group=billing", "ctx.stream.deliveries=6"})},
		{ops.Signal{Kind: ops.SignalConsumerLag, Name: "orders", Group: "billing", N: 10, M: 2},
			"igniter.store.stream.consumer_lag", slog.LevelDebug, cat(b("stream"), []string{"ctx.stream.name=orders", "ctx.stream.group=billing", "ctx.stream.lag=10", "ctx.stream.pending=2"})},
		{ops.Signal{Kind: ops.SignalConsumerStopped, Name: "orders", Group: "billing", Source: 7},
			"igniter.store.stream.consumer_stopped", slog.LevelDebug, cat(b("stream"), []string{"ctx.stream.name=orders", "ctx.stream.group=billing"})},
		{ops.Signal{Kind: ops.SignalRedriveSkipped, Name: "orders", Group: "email"},
			"igniter.store.stream.redrive_skipped", slog.LevelDebug, cat(b("stream"), []string{"ctx.stream.name=orders", "ctx.stream.group=email"})},
		{ops.Signal{Kind: ops.SignalRetry, Op: ops.KVGet, N: 1, Err: retryErr},
			"igniter.store.retry.attempt", slog.LevelWarn, cat(b("retry"), []string{"ctx.retry.operation=kv.get", "ctx.retry.attempt=1",
				"ctx.error.operation=kv.get", "ctx.error.code=STORE_CONNECTION_FAILED", "ctx.error.message=kv.get failed"})},
		{ops.Signal{Kind: ops.SignalRetryBudget, Op: ops.KVGet, Err: retryErr},
			"igniter.store.retry.budget_exhausted", slog.LevelError, cat(b("retry"), []string{"ctx.retry.operation=kv.get",
				"ctx.error.operation=kv.get", "ctx.error.code=STORE_CONNECTION_FAILED", "ctx.error.message=kv.get failed"})},
		{ops.Signal{Kind: ops.SignalBreakerState, Name: "redis", From: "closed", To: "open"},
			"igniter.store.breaker.state_changed", slog.LevelWarn, cat(b("breaker"), []string{"ctx.breaker.name=redis", "ctx.breaker.from=closed", "ctx.breaker.to=open"})},
		{ops.Signal{Kind: ops.SignalNearHit}, "igniter.store.nearcache.hit", slog.LevelDebug, b("nearcache")},
		{ops.Signal{Kind: ops.SignalNearMiss}, "igniter.store.nearcache.miss", slog.LevelDebug, b("nearcache")},
		{ops.Signal{Kind: ops.SignalNearInvalidated, N: 1},
			"igniter.store.nearcache.invalidated", slog.LevelDebug, cat(b("nearcache"), []string{"ctx.nearcache.removed=1"})},
		{ops.Signal{Kind: ops.SignalNearConnectionLost, N: 3},
			"igniter.store.nearcache.connection_lost", slog.LevelWarn, cat(b("nearcache"), []string{"ctx.nearcache.removed=3"})},
		{ops.Signal{Kind: ops.SignalNearFlushed, N: 7},
			"igniter.store.nearcache.flushed", slog.LevelInfo, cat(b("nearcache"), []string{"ctx.nearcache.removed=7"})},
	}
	covered := map[ops.SignalKind]bool{}
	for _, c := range cases {
		covered[c.sig.Kind] = true
		rec := telemetry.NewRecorder()
		s := c.sig
		s.Service, s.ScopeKey, s.ScopeDepth = "svc", "organization", 1
		telemetry.NewObserver(rec).Observe(context.Background(), s)
		check(t, rec.Events(), want{c.name, c.level, c.attrs})
		if telemetry.SignalLevel(c.sig.Kind) != c.level {
			t.Errorf("SignalLevel(%v) = %v", c.sig.Kind, telemetry.SignalLevel(c.sig.Kind))
		}
	}
	for _, k := range ops.SignalKinds() {
		if !covered[k] {
			t.Errorf("signal %v has no case", k)
		}
	}
}

func TestObserverSkipsDisabledLevels(t *testing.T) {
	s := levelSink{slog.LevelWarn, telemetry.NewRecorder()}
	o := telemetry.NewObserver(s)
	o.Observe(context.Background(), ops.Signal{Kind: ops.SignalDelivered, Name: "a"})
	o.Observe(context.Background(), ops.Signal{Kind: ops.SignalDropped, Name: "a", N: 1})
	if got := s.Names(); len(got) != 1 || got[0] != "igniter.store.events.dropped" {
		t.Fatalf("got %v", got)
	}
}
