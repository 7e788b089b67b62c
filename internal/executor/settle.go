package executor

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/ops"
)

// Settle is told, for one operation run under a ctx that carries it ([WithSettle]), what the
// executor learns of the operation's commands beyond what each of its calls returns: the calls
// that failed, and each pipelined command whose caller stopped waiting (its ctx ended) before the
// command had its outcome, until that command settles. The pipeline drops such a command only
// while its batch has not passed the drop hook; past it (the batch waiting for a connection to be
// dialled, or on the wire) the command is written, and may be applied, after its caller left. The
// store tells a kv write's watchers that it ended only once nothing of it can reach Redis any
// more (client.KVWriteWatcher).
//
// Its methods must be fast and must not call the store.
type Settle interface {
	// Op is the operation it follows. The executor tells it only of that operation's calls and
	// commands, not of other operations run under the same ctx (a middleware's own store calls).
	Op() ops.Op
	// Failed is called, on the caller's goroutine, as a call of the operation returns the coded
	// error err.
	Failed(err error)
	// Left is called, on the caller's goroutine and before that call's Failed, for each pipelined
	// command whose caller stopped waiting for it before it had an outcome.
	Left()
	// Settled is called once per Left, on a goroutine of the executor's, once that command can
	// no longer be written: sent is false when the pipeline dropped it unwritten; otherwise err
	// is its outcome (nil: Redis acknowledged it; a go-redis error: a reply error, or a
	// transport error after which it may have been applied). A panic in it is recovered and
	// dropped: nothing waits for that goroutine.
	Settled(sent bool, err error)
}

type settleKey struct{}

// WithSettle returns ctx carrying s: the executor tells s about the operation run under it.
func WithSettle(ctx context.Context, s Settle) context.Context {
	return context.WithValue(ctx, settleKey{}, s)
}

// The executor looks for a Settle only on its rare paths (a failed call, a command whose caller
// left), so an operation without one costs nothing more.

// settleFor returns the Settle ctx carries if it follows op (its kind and key), or nil.
func settleFor(ctx context.Context, op ops.Op) Settle {
	s, _ := ctx.Value(settleKey{}).(Settle)
	if s == nil {
		return nil
	}
	if o := s.Op(); o.Kind != op.Kind || o.Key != op.Key {
		return nil
	}
	return s
}

// settleForCmd returns the Settle ctx carries if cmd is the command of the operation it follows
// (the command short.go builds for it: same name, same key), or nil.
func settleForCmd(ctx context.Context, cmd redis.Cmder) Settle {
	s, _ := ctx.Value(settleKey{}).(Settle)
	if s == nil {
		return nil
	}
	var e Executor // builds the short kinds' commands without a client (but Batch.Get on a cluster)
	own := e.command(context.Background(), s.Op())
	if own == nil || own.Name() != cmd.Name() || firstKey(own) != firstKey(cmd) {
		return nil
	}
	return s
}
