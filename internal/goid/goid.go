package goid

import (
	"bytes"
	"runtime"
	"strconv"
)

// Current returns the id of the calling goroutine, read from the first line of its stack
// trace ("goroutine 42 [running]:").
//
// Store.Close waits for running subscription and consume handlers, and handlers and error
// callbacks may call Store.Close: Close must then not wait for the goroutine it runs on (it would
// wait for itself until the grace period ran out). Close has no ctx to carry a marker and Go has no
// goroutine-local state, so a callback goroutine records its id when it starts and Close skips the
// one it runs on. This is called once per callback goroutine and once per Close, never per
// message.
func Current() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}
