package ops

import (
	"fmt"
	"runtime/debug"
)

// PanicValue is the cause of a [CodeCallbackPanic] error: what user code panicked with, and the
// stack of the goroutine it panicked on. errors.As(err, &pv) reaches it.
type PanicValue struct {
	// Value is the argument of the panic.
	Value any
	// Stack is the panicking goroutine's stack, as [debug.Stack] formats it.
	Stack []byte
}

// Error formats the panic value (not the stack: read Stack for it).
func (p *PanicValue) Error() string { return fmt.Sprintf("panic: %v", p.Value) }

// Unwrap returns the panic value when it is an error, so errors.Is reaches it.
func (p *PanicValue) Unwrap() error {
	if err, ok := p.Value.(error); ok {
		return err
	}
	return nil
}

// CallbackPanic returns the STORE_CALLBACK_PANIC error of a panic recovered from user code:
// operation names where it ran ("cache.load", "nearcache.on_event"…), value is what recover
// returned. Call it inside the deferred function that recovered, so the stack is the panic's.
func CallbackPanic(operation string, value any) *Error {
	return NewError(CodeCallbackPanic, operation, "user callback panicked", &PanicValue{Value: value, Stack: debug.Stack()})
}

// Recover runs fn and returns its panic, if it panics, as a [CallbackPanic] error for operation;
// nil otherwise. It is how the library calls user code on goroutines it starts:
//
//	if err := ops.Recover("cache.on_refresh_error", func() { o.OnRefreshError(key, cause) }); err != nil { … }
func Recover(operation string, fn func()) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = CallbackPanic(operation, v)
		}
	}()
	fn()
	return nil
}
