package executor

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/ops"
)

// unavailablePrefixes are the error replies that mean "this node cannot serve now": retrying
// later, or on another node, may succeed (go-redis's own retry list).
var unavailablePrefixes = []string{"LOADING", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN", "READONLY"}

// MapError turns a go-redis error into a coded error of the operation's kind. It is the only
// place that knows go-redis error types.
func MapError(kind ops.Kind, err error) error {
	if err == nil {
		return nil
	}
	var coded *ops.Error
	if errors.As(err, &coded) {
		return err
	}
	return ops.Failure(kind, Category(err), err)
}

// Category returns the ops category of a go-redis error: ops.ErrCanceled, ops.ErrUnavailable
// (the connection or the node cannot serve now) or ops.ErrFailed (Redis answered with an error).
func Category(err error) error {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return ops.ErrCanceled
	case errors.Is(err, redis.ErrClosed), errors.Is(err, redis.ErrPoolTimeout), errors.Is(err, redis.ErrPoolExhausted),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return ops.ErrUnavailable
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return ops.ErrUnavailable
	}
	var reply redis.Error
	if errors.As(err, &reply) {
		for _, p := range unavailablePrefixes {
			if redis.HasErrorPrefix(err, p) {
				return ops.ErrUnavailable
			}
		}
		return ops.ErrFailed
	}
	return ops.ErrFailed
}
