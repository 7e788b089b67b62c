package client_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/events"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/middleware/schema"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/storetest"
)

// callbackPanics returns an observer that sends every signal carrying a STORE_CALLBACK_PANIC on
// the returned channel.
func callbackPanics() (ops.Observer, chan ops.Signal) {
	ch := make(chan ops.Signal, 64)
	return ops.ObserverFunc(func(_ context.Context, s ops.Signal) {
		if ops.HasCode(s.Err, ops.CodeCallbackPanic) {
			select {
			case ch <- s:
			default:
			}
		}
	}), ch
}

func awaitSignal(t *testing.T, what string, ch <-chan ops.Signal) ops.Signal {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s within 10s", what)
	}
	return ops.Signal{}
}

// wantCallbackPanic checks err is STORE_CALLBACK_PANIC with the panic's value and stack.
func wantCallbackPanic(t *testing.T, err error, value string) {
	t.Helper()
	var pv *ops.PanicValue
	if !ops.HasCode(err, ops.CodeCallbackPanic) || !errors.As(err, &pv) || pv.Value != value || len(pv.Stack) == 0 {
		t.Fatalf("got %v, want STORE_CALLBACK_PANIC of %q with its stack", err, value)
	}
}

// An OnError callback that panics runs on the subscription's callback goroutine: the panic is
// recovered into STORE_CALLBACK_PANIC, reported to the store's observers (SignalHandlerFailed)
// and the log, and the subscription goes on: later messages are delivered and later failures
// reach OnError again.
func TestGuaranteeEventsOnErrorPanicIsRecovered(t *testing.T) {
	srv := redistest.Start(t)
	obs, panics := callbackPanics()
	st := storetest.Connect(t, srv.Client(t), client.New().WithService("test").WithObserver(obs))
	ctx := context.Background()

	reported := make(chan error, 16)
	calls := 0
	onError := events.OnError(func(_ context.Context, err error) {
		calls++ // only ever called from the callback goroutine
		if calls == 1 {
			panic("on-error hook broke")
		}
		reported <- err
	})
	box := newInbox()
	_, err := st.Events.Subscribe(ctx, "jobs:done", func(ctx context.Context, m events.Message) error {
		if string(m.Data) == `"bad"` {
			return errors.New("cannot handle it")
		}
		return box.handler(ctx, m)
	}, onError)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"bad", "bad", "good"} {
		if err := st.Events.Publish(ctx, "jobs:done", p); err != nil {
			t.Fatal(err)
		}
	}
	s := awaitSignal(t, "STORE_CALLBACK_PANIC signal", panics)
	if s.Kind != ops.SignalHandlerFailed || s.Name != "jobs:done" {
		t.Fatalf("signal %+v", s)
	}
	wantCallbackPanic(t, s.Err, "on-error hook broke")
	select {
	case err := <-reported: // the second failure reached OnError: its goroutine lives on
		if ops.CodeOf(err) != ops.CodeHandlerFailed {
			t.Fatalf("OnError got %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("OnError was not called again after its panic")
	}
	if m := box.next(t); string(m.Data) != `"good"` {
		t.Fatalf("delivered %s", m.Data)
	}
}

// A subscribe-side schema validator (schema.Func) is user code that runs on the store's receive
// goroutine: a panic in it is recovered into STORE_CALLBACK_PANIC, reported like an invalid
// message (OnError, SignalMessageInvalid, the log), the message is not delivered, and the
// receive loop goes on: the next valid message is delivered.
func TestGuaranteeEventsValidatorPanicIsRecovered(t *testing.T) {
	type job struct {
		ID string `json:"id"`
	}
	ns := events.NewNamespace("jobs")
	events.Define[job](ns, "done", schema.Func(func(j job) error {
		if j.ID == "poison" {
			panic("validator broke")
		}
		return nil
	}))
	srv := redistest.Start(t)
	obs, panics := callbackPanics()
	st := storetest.Connect(t, srv.Client(t), client.New().WithService("test").WithObserver(obs).
		AddEvents(ns, client.Validation{SkipPublish: true, Subscribe: true}))
	ctx := context.Background()
	box, errs := newInbox(), newErrSink()
	if _, err := st.Events.Subscribe(ctx, "jobs:done", box.handler, errs.option()); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"poison", "ok"} {
		if err := st.Events.Publish(ctx, "jobs:done", job{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	wantCallbackPanic(t, errs.next(t), "validator broke")
	if s := awaitSignal(t, "STORE_CALLBACK_PANIC signal", panics); s.Kind != ops.SignalMessageInvalid {
		t.Fatalf("signal %+v", s)
	}
	if m := box.next(t); string(m.Data) != `{"id":"ok"}` {
		t.Fatalf("delivered %s, want only the valid one", m.Data)
	}
}
