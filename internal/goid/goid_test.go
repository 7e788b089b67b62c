package goid_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/igniter-go/store/internal/goid"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestCurrentIsStablePerGoroutineAndDistinct(t *testing.T) {
	me := goid.Current()
	if me == 0 || goid.Current() != me {
		t.Fatalf("Current() = %d, then %d", me, goid.Current())
	}
	other := make(chan uint64)
	go func() { other <- goid.Current() }()
	if o := <-other; o == 0 || o == me {
		t.Fatalf("another goroutine's id %d, this one's %d", o, me)
	}
}
