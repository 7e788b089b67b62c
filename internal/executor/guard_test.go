package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/ops"
)

// replyErr is a Redis error reply as go-redis returns one.
type replyErr string

func (e replyErr) Error() string { return string(e) }
func (replyErr) RedisError()     {}

func TestMaybeSent(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"EOF", io.EOF, true},
		{"reset", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, true},
		{"write broken pipe", &net.OpError{Op: "write", Net: "tcp", Err: syscall.EPIPE}, true},
		{"i/o timeout", &net.OpError{Op: "read", Net: "tcp", Err: timeoutErr{}}, true},
		{"dial refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, false},
		{"reply", replyErr("WRONGTYPE Operation against a key holding the wrong kind of value"), false},
		{"MOVED", replyErr("MOVED 3999 127.0.0.1:6381"), false},
		{"pool timeout", redis.ErrPoolTimeout, false},
		{"closed", redis.ErrClosed, false},
		{"canceled", context.Canceled, false},
		{"deadline", fmt.Errorf("wrapped: %w", context.DeadlineExceeded), false},
		{"coded", ops.Failure(ops.KVGet, ops.ErrUnavailable, io.EOF), false},
		{"autopipeline queue full", redis.ErrAutoPipelineQueueFull, false},
	} {
		if got := maybeSent(tc.err); got != tc.want {
			t.Errorf("%s: maybeSent = %v, want %v", tc.name, got, tc.want)
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// A lost reply is STORE_OUTCOME_UNKNOWN (unavailable) wrapping its cause, on every backend; a
// failure before the write is not one.
func TestLostReplyIsCodedAndWrapsItsCause(t *testing.T) {
	err := lostReplyOf(ops.Op{Kind: ops.CounterIncrement}, fmt.Errorf("redis: %w", io.EOF))
	if ops.CodeOf(err) != ops.CodeOutcomeUnknown || !errors.Is(err, ops.ErrUnavailable) || !errors.Is(err, io.EOF) {
		t.Fatalf("coded lost reply = %v", err)
	}
	if lostReplyOf(ops.Op{Kind: ops.KVGet}, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}) != nil {
		t.Fatal("a refused dial is not a lost reply: the command was never sent")
	}
}

// NoRetry is go-redis's re-send marker: a store command may be sent again only after an outcome
// that proves it did not run.
func TestStoreCommandNoRetryUnlessProvenNotRun(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool // NoRetry
	}{
		{"not sent yet", nil, true},
		{"EOF", io.EOF, true},
		{"i/o timeout", &net.OpError{Op: "read", Net: "tcp", Err: timeoutErr{}}, true},
		{"dial refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, false},
		{"pool timeout", redis.ErrPoolTimeout, false},
		{"TRYAGAIN", replyErr("TRYAGAIN Multiple keys request during rehashing of slot"), false},
		{"LOADING", replyErr("LOADING Redis is loading the dataset in memory"), false},
		{"WRONGTYPE", replyErr("WRONGTYPE Operation against a key holding the wrong kind of value"), true},
	} {
		ctx := context.Background()
		for _, cmd := range []redis.Cmder{ // each wrapper of noRetry, noRetryAny last
			redis.NewStringCmd(ctx, "get", "k"), redis.NewStatusCmd(ctx, "set", "k", "v"), redis.NewIntCmd(ctx, "incr", "k"),
			redis.NewBoolCmd(ctx, "expire", "k", 1), redis.NewSliceCmd(ctx, "mget", "k"), redis.NewCmd(ctx, "evalsha", "x", 0),
			redis.NewXStreamSliceCmd(ctx),
		} {
			w := noRetry(cmd)
			w.SetErr(tc.err)
			if got := w.NoRetry(); got != tc.want {
				t.Errorf("%s (%T): NoRetry = %v, want %v", tc.name, cmd, got, tc.want)
			}
			if cmd.Err() != tc.err {
				t.Errorf("%s (%T): the wrapped command's error is %v, want %v", tc.name, cmd, cmd.Err(), tc.err)
			}
		}
	}
}

func TestSlotGroupsKeepFirstAppearanceOrder(t *testing.T) {
	keys := []string{"{a}:1", "{b}:1", "{a}:2", "{c}:1", "{b}:2"}
	got := slotGroups(keys)
	want := [][]int{{0, 2}, {1, 4}, {3}}
	if !slices.EqualFunc(got, want, slices.Equal[[]int]) {
		t.Fatalf("slotGroups = %v, want %v", got, want)
	}
}
