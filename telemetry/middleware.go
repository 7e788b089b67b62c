package telemetry

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"sync"

	"github.com/igniter-go/store/ops"
)

// New returns the middleware that emits the catalog events of every Op: .started before
// it runs, then .success or .error. Put it in the outermost chain position (WithTelemetry does)
// so it sees every outcome of the logical operation, including validation failures and
// rejections. A miss is a success (kv.get success with ctx.kv.found false), as in the original.
//
// Attributes are built only when the sink has the level enabled, in a pooled buffer: with a
// sink that wants nothing the middleware costs two Enabled calls per operation. A nil sink
// gives a middleware that does nothing.
func New(sink Sink) ops.Middleware {
	if sink == nil {
		return ops.Chain()
	}
	return func(next ops.Handler) ops.Handler {
		return func(ctx context.Context, op ops.Op) (ops.Result, error) {
			debug := sink.Enabled(ctx, slog.LevelDebug)
			var buf *attrBuf
			var n int // length of the started attributes in buf
			if debug {
				buf = getBuf()
				buf.a = appendStarted(buf.a[:0], op)
				n = len(buf.a)
				sink.Emit(ctx, Event{Name: Name(op.Kind, PhaseStarted), Level: slog.LevelDebug, Attrs: buf.a})
			}
			res, err := next(ctx, op)
			switch {
			case err != nil:
				if level := ErrorLevel(err); sink.Enabled(ctx, level) {
					if buf == nil {
						buf = getBuf()
						buf.a = appendStarted(buf.a[:0], op)
						n = len(buf.a)
					}
					buf.a = appendError(buf.a[:n], op.Kind.Operation(), err)
					sink.Emit(ctx, Event{Name: Name(op.Kind, PhaseError), Level: level, Attrs: buf.a})
				}
			case debug:
				buf.a = appendSuccess(buf.a[:n], op, res)
				sink.Emit(ctx, Event{Name: Name(op.Kind, PhaseSuccess), Level: slog.LevelDebug, Attrs: buf.a})
			}
			if buf != nil {
				putBuf(buf)
			}
			return res, err
		}
	}
}

// ErrorLevel is the level of an operation's error event: info for an outcome that is an answer,
// not a failure ([ops.Expected]: a miss, a claim or lease held by another owner, a non-owner
// release), error for everything else.
func ErrorLevel(err error) slog.Level {
	if ops.Expected(err) {
		return slog.LevelInfo
	}
	return slog.LevelError
}

type attrBuf struct{ a []slog.Attr }

var bufPool = sync.Pool{New: func() any { return &attrBuf{a: make([]slog.Attr, 0, 16)} }}

func getBuf() *attrBuf { return bufPool.Get().(*attrBuf) }

func putBuf(b *attrBuf) {
	if cap(b.a) > 64 {
		return
	}
	b.a = b.a[:0]
	bufPool.Put(b)
}

// appendBase appends the base attributes: service, namespace, and scope key and depth when
// scoped. The scope id is never an attribute.
func appendBase(a []slog.Attr, service, namespace, scopeKey string, depth int) []slog.Attr {
	a = append(a, slog.String(AttrService, service), slog.String(AttrNamespace, namespace))
	if depth > 0 {
		a = append(a, slog.String(AttrScopeKey, scopeKey), slog.Int(AttrScopeDepth, depth))
	}
	return a
}

func ttlAttr(key string, op ops.Op) slog.Attr { return slog.Float64(key, op.TTL.Seconds()) }

// appendStarted appends the base and started attributes of op (spec §9).
func appendStarted(a []slog.Attr, op ops.Op) []slog.Attr {
	k := op.Kind
	a = appendBase(a, op.Service, k.Group(), op.ScopeKey, op.ScopeDepth)
	switch k {
	case ops.KVSet, ops.KVSetIfAbsent:
		if op.TTL > 0 { // the original's options.ttl "may be absent"; 0 is no expiry
			a = append(a, ttlAttr(AttrKVTTL, op))
		}
	case ops.KVExpire, ops.KVTouch:
		a = append(a, ttlAttr(AttrKVTTL, op))
	case ops.CounterIncrement, ops.CounterDecrement:
		a = append(a, slog.Int64(AttrCounterDelta, op.N))
	case ops.CounterExpire:
		a = append(a, ttlAttr(AttrCounterTTL, op))
	case ops.ClaimOnce:
		if op.TTL > 0 {
			a = append(a, ttlAttr(AttrClaimTTL, op))
		}
	case ops.LeaseAcquire, ops.LeaseExtend:
		a = append(a, ttlAttr(AttrLeaseTTL, op))
	case ops.BatchGet, ops.BatchSet:
		a = append(a, slog.Int64(AttrBatchCount, op.N))
	case ops.EventsPublish:
		a = append(a, slog.String(AttrEventsChannel, op.Name))
	case ops.EventsSubscribe, ops.EventsUnsubscribe:
		a = append(a, slog.String(AttrEventsChannel, op.Name), slog.Bool(AttrEventsWildcard, strings.IndexByte(op.Name, '*') >= 0))
	case ops.StreamAppend:
		a = append(a, slog.String(AttrStreamName, op.Name), slog.Int(AttrStreamCount, 1))
	case ops.StreamRange, ops.StreamRedrive:
		a = append(a, slog.String(AttrStreamName, op.Name))
	case ops.StreamEnsure, ops.StreamRead, ops.StreamClaim, ops.StreamPending, ops.StreamAck:
		a = append(a, slog.String(AttrStreamName, op.Name))
		if st := op.Stream; st != nil {
			if st.Group != "" {
				a = append(a, slog.String(AttrStreamGroup, st.Group))
			}
			if st.Consumer != "" {
				a = append(a, slog.String(AttrStreamConsumer, st.Consumer))
			}
			if k == ops.StreamAck {
				a = append(a, slog.Int(AttrStreamCount, len(st.IDs)))
			}
		}
	}
	return a
}

// appendSuccess appends what a success event adds, read from the Result.
func appendSuccess(a []slog.Attr, op ops.Op, res ops.Result) []slog.Attr {
	switch op.Kind {
	case ops.KVGet:
		a = append(a, slog.Bool(AttrKVFound, res.Bool))
	case ops.KVExists:
		a = append(a, slog.Bool(AttrKVExisted, res.Bool))
	case ops.CounterIncrement, ops.CounterDecrement:
		a = append(a, slog.Int64(AttrCounterValue, res.Int))
	case ops.ClaimOnce:
		a = append(a, slog.Bool(AttrClaimAcquired, res.Bool))
	case ops.ClaimRelease:
		a = append(a, slog.Bool(AttrClaimReleased, res.Bool))
	case ops.LeaseAcquire:
		a = append(a, slog.Bool(AttrLeaseAcquired, res.Bool))
	case ops.LeaseExtend:
		a = append(a, slog.Bool(AttrLeaseExtended, res.Bool))
	case ops.LeaseRelease:
		a = append(a, slog.Bool(AttrLeaseReleased, res.Bool))
	case ops.BatchGet:
		found := 0
		for _, v := range res.Values {
			if v != nil {
				found++
			}
		}
		a = append(a, slog.Int(AttrBatchFound, found))
	case ops.StreamRange, ops.StreamRead, ops.StreamClaim, ops.StreamPending:
		a = append(a, slog.Int(AttrStreamCount, len(res.Entries)))
	case ops.StreamRedrive:
		a = append(a, slog.Int64(AttrStreamCount, res.Int)) // 1 moved, 0 not
	}
	return a
}

// appendError appends the error attributes. For a coded *ops.Error: its code and its Message
// (never the text of its cause, which may hold Redis replies or keys). For any other error the
// code is its Go type (the original uses error.name) and the message is left out, since a
// foreign error's text may hold keys.
func appendError(a []slog.Attr, operation string, err error) []slog.Attr {
	a = append(a, slog.String(AttrErrorOperation, operation))
	if err == nil {
		return a
	}
	var e *ops.Error
	if errors.As(err, &e) {
		a = append(a, slog.String(AttrErrorCode, string(e.Code)))
		if e.Message != "" {
			a = append(a, slog.String(AttrErrorMessage, e.Message))
		}
		return a
	}
	return append(a, slog.String(AttrErrorCode, reflect.TypeOf(err).String()))
}
