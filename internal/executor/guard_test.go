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
		{"already lost", &lostReplyError{cause: io.EOF}, false},
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

// A lost reply hides its cause from go-redis (no Unwrap: its retry checks would find the EOF),
// and the coded error the caller gets wraps the cause again.
func TestLostReplyIsCodedAndWrapsItsCause(t *testing.T) {
	lost := &lostReplyError{cause: io.EOF}
	if errors.Is(lost, io.EOF) {
		t.Fatal("lostReplyError unwraps to its cause: go-redis would retry it")
	}
	err := lostReplyOf(ops.Op{Kind: ops.CounterIncrement}, fmt.Errorf("redis: %w", lost))
	if ops.CodeOf(err) != ops.CodeOutcomeUnknown || !errors.Is(err, ops.ErrUnavailable) || !errors.Is(err, io.EOF) {
		t.Fatalf("coded lost reply = %v", err)
	}
	if lostReplyOf(ops.Op{Kind: ops.KVGet}, io.EOF) != nil {
		t.Fatal("a plain EOF is not a lost reply of the cluster hook")
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
